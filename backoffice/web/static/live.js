// Live screens: an EventSource whose named events carry HTML for the element of the same id.
(function () {
  var root = document.querySelector("[data-live]");
  if (!root) return;
  var source = new EventSource(root.getAttribute("data-live"));
  root.getAttribute("data-targets").split(" ").forEach(function (name) {
    source.addEventListener(name, function (e) {
      var target = document.getElementById(name);
      if (target) target.innerHTML = e.data;
    });
  });
})();
// Forms inside live fragments post in the background and show the answer in place, so the
// screen pop (and what the agent typed) stays while the call goes on.
document.addEventListener("submit", function (e) {
  var form = e.target;
  var target = form.getAttribute("data-async");
  if (!target) return;
  e.preventDefault();
  fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
    .then(function (r) { return r.text().then(function (body) { return [r.ok, body]; }); })
    .then(function (res) {
      var out = document.getElementById(target);
      if (res[0]) { out.innerHTML = res[1]; } else { out.textContent = res[1]; }
    });
});
