// Linking opinions to problems. On the tagging screen the key p opens the problem chooser for the opinion
// shown (tag.js may have moved to another card without a reload); on the chooser, keys 1-9 pick a problem.
// Without JavaScript both pages work by their buttons.
(function () {
  "use strict";
  var tagger = document.getElementById("tagger");
  var linkForm = document.getElementById("problemform");
  function current() {
    var id = tagger && tagger.getAttribute("data-id");
    if (linkForm && id) {
      linkForm.querySelector("input[name=ids]").value = id;
      linkForm.querySelector("input[name=back]").value = "/w/tag/" + id;
    }
  }
  // The tagging card's changed areas are saved before the chooser opens (they were dropped).
  function open() {
    var ready = window.wenjiTagger ? window.wenjiTagger.settle() : Promise.resolve();
    ready.then(function () { current(); linkForm.submit(); }, function () {});
  }
  if (linkForm) {
    linkForm.addEventListener("submit", function (e) {
      if (window.wenjiTagger) { e.preventDefault(); open(); } else { current(); }
    });
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || /INPUT|TEXTAREA|SELECT/.test(e.target.tagName)) { return; }
    if (linkForm && e.key === "p") {
      e.preventDefault();
      open();
    } else if (!linkForm && e.key >= "1" && e.key <= "9") {
      var b = document.querySelectorAll("#choose button[name=problem]")[Number(e.key) - 1];
      if (b) { e.preventDefault(); b.click(); }
    }
  });
})();
