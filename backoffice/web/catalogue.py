"""Every string of the back-office pages: key -> (Mandarin, English)."""

from __future__ import annotations

from collections.abc import Mapping

MESSAGES: Mapping[str, tuple[str, str]] = {
    # --- frame ---------------------------------------------------------------------------
    "app.title": ("12351 职工服务热线 · 工单后台", "12351 Worker Hotline · Back Office"),
    "app.short": ("工单后台", "Back office"),
    "nav.dashboard": ("统计看板", "Dashboard"),
    "nav.orders": ("工单", "Work orders"),
    "nav.logout": ("退出", "Sign out"),
    "nav.signed_in_as": ("{name}（{role}）", "{name} ({role})"),
    "nav.language": ("语言", "Language"),
    "nav.skip": ("跳到正文", "Skip to content"),
    "common.submit": ("提交", "Submit"),
    "common.search": ("搜索", "Search"),
    "common.reset": ("重置", "Reset"),
    "common.none": ("无", "none"),
    "common.yes": ("是", "yes"),
    "common.no": ("否", "no"),
    "common.any": ("全部", "any"),
    "common.back": ("返回", "Back"),
    "common.not_set": ("—", "—"),
    # --- login ---------------------------------------------------------------------------
    "login.title": ("登录", "Sign in"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.failed": ("用户名或密码错误", "Wrong username or password"),
    "login.too_many": (
        "登录失败次数过多，请 {seconds} 秒后再试",
        "Too many failed sign-ins; try again in {seconds} s",
    ),
    "login.missing": ("请填写用户名和密码", "Enter your username and password"),
    "flash.signed_in": ("已登录", "Signed in"),
    "flash.signed_out": ("已退出登录", "Signed out"),
    # --- errors --------------------------------------------------------------------------
    "error.title": ("出错了", "Something went wrong"),
    "error.400": ("请求有误", "Bad request"),
    "error.403": ("无权操作", "Not allowed"),
    "error.404": ("找不到该页面或工单", "No such page or work order"),
    "error.404.detail": (
        "该工单不存在，或不在您的管辖范围内。",
        "The work order does not exist, or it is outside your jurisdiction.",
    ),
    "error.405": ("不支持该请求方式", "Method not allowed"),
    "error.409": ("状态冲突", "Conflict"),
    "error.422": ("输入有误", "Invalid input"),
    "error.429": ("请求过于频繁", "Too many requests"),
    "error.csrf": (
        "表单已过期或并非来自本站（CSRF 校验失败），请刷新页面后重试。",
        "The form has expired or did not come from this site (CSRF check failed); "
        "reload the page and try again.",
    ),
    "error.home": ("回到首页", "Back to the start page"),
    # --- roles ---------------------------------------------------------------------------
    "role.admin": ("系统管理员", "admin"),
    "role.supervisor": ("值班长", "supervisor"),
    "role.operator": ("接线员", "operator"),
    "role.lawyer": ("值班律师", "lawyer"),
    "role.handler": ("承办人", "handler"),
    "role.viewer": ("查看者", "viewer"),
}
