// Linking opinions to problems. On the tagging screen the key p opens the problem chooser for the opinion
// shown (tag.js may have moved to another card without a reload); on the chooser, keys 1-9 pick a problem
// among those shown, and with more than nine, / filters them by title or number (Enter picks the first).
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
  // On the tagging screen tag.js takes the key p in its turn (after the card typed ahead for shows).
  window.wenjiProblemKey = { open: open };
  if (linkForm) {
    linkForm.addEventListener("submit", function (e) {
      if (window.wenjiTagger) { e.preventDefault(); open(); } else { current(); }
    });
  }
  var find = document.getElementById("choose-find");
  var filter = document.getElementById("choose-filter");
  function shown() {
    return Array.prototype.filter.call(document.querySelectorAll("#choose li"), function (li) { return !li.hidden; })
      .map(function (li) { return li.querySelector("button[name=problem]"); });
  }
  // The shown problems are numbered afresh, so a key always names what the analyst sees.
  function narrow() {
    var words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    var n = 0;
    Array.prototype.forEach.call(document.querySelectorAll("#choose li"), function (li) {
      var text = li.getAttribute("data-find").toLowerCase();
      li.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
      var kbd = li.querySelector("kbd");
      if (!li.hidden) { n += 1; }
      kbd.textContent = String(n);
      kbd.hidden = li.hidden || n > 9;
    });
  }
  if (find && filter) {
    find.hidden = false;
    filter.addEventListener("input", narrow);
    filter.addEventListener("keydown", function (e) {
      if (e.isComposing || e.keyCode === 229) { return; }
      if (e.key === "Enter") {
        e.preventDefault();
        var first = shown()[0];
        if (first) { first.click(); }
      } else if (e.key === "Escape") {
        filter.value = "";
        narrow();
        filter.blur();
      }
    });
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || /INPUT|TEXTAREA|SELECT/.test(e.target.tagName)) { return; }
    if (linkForm && e.key === "p" && !window.wenjiTagger) {
      e.preventDefault();
      open();
    } else if (!linkForm && filter && e.key === "/") {
      e.preventDefault();
      filter.focus();
    } else if (!linkForm && e.key >= "1" && e.key <= "9") {
      var b = shown()[Number(e.key) - 1];
      if (b) { e.preventDefault(); b.click(); }
    }
  });
})();
