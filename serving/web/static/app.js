// Progressive enhancement only: every action works without this script (plain forms and links).
// Filters on the worklist apply as soon as a select changes.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target.tagName === "SELECT" && target.form && target.form.classList.contains("filters")) {
    target.form.submit();
  }
});
