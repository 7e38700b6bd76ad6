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
