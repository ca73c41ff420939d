// Wenji form enhancements. The form works without this file; it only adds:
// character counters, show-if conditions, draft autosave in localStorage, and a warning before leaving
// with unsent text. Drafts never leave the phone.
(function () {
  "use strict";
  var receipt = document.querySelector(".receipt-page");
  if (receipt) {
    // A successful submit: forget every draft of this form.
    var slug = receipt.getAttribute("data-slug");
    try {
      Object.keys(localStorage).forEach(function (k) {
        if (k.indexOf("wenji-draft:" + slug + ":") === 0) localStorage.removeItem(k);
      });
    } catch (e) {}
    return;
  }
  var form = document.getElementById("wenji-form");
  if (!form) return;
  var draftKey = form.getAttribute("data-draft-key");
  // NodeList.forEach and Array.from are missing in older WebViews (WeChat's X5 on old Android).
  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  var dirty = false;
  var serverHasValues = !!document.querySelector(".field-error, .notice");

  function fields() {
    return Array.prototype.slice.call(form.elements).filter(function (el) {
      return el.name && (el.name.indexOf("q_") === 0 || el.name === "_category");
    });
  }
  function save() {
    var data = { key: form.elements["_key"].value, values: {} };
    fields().forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) (data.values[el.name] = data.values[el.name] || []).push(el.value);
      } else if (el.value) {
        data.values[el.name] = [el.value];
      }
    });
    try { localStorage.setItem(draftKey, JSON.stringify(data)); } catch (e) {}
  }
  function restore() {
    var raw;
    try { raw = localStorage.getItem(draftKey); } catch (e) { return; }
    if (!raw || serverHasValues) return;
    var data;
    try { data = JSON.parse(raw); } catch (e) { return; }
    var any = false;
    fields().forEach(function (el) {
      var v = data.values[el.name];
      if (!v) return;
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = v.indexOf(el.value) >= 0;
      } else {
        el.value = v[0];
      }
      any = true;
    });
    // Keep the first page's submission key, so a retry after a lost answer is not stored twice.
    if (data.key) form.elements["_key"].value = data.key;
    if (any) {
      document.getElementById("draft-note").hidden = false;
      dirty = true;
    }
  }
  // On a shared phone or office computer, the next person can throw the draft away.
  function fire(el, type, bubbles) {
    var ev = document.createEvent("Event");
    ev.initEvent(type, bubbles, false);
    el.dispatchEvent(ev);
  }
  function clearDraft() {
    fields().forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") el.checked = false;
      else el.value = "";
      fire(el, "input", false); // counters
    });
    fire(form, "change", false); // conditions (this also saves an empty draft; removed below)
    try { localStorage.removeItem(draftKey); } catch (e) {}
    document.getElementById("draft-note").hidden = true;
    dirty = false;
  }
  function counters() {
    each(form.querySelectorAll("[data-max]"), function (el) {
      var max = parseInt(el.getAttribute("data-max"), 10);
      if (!max) return;
      var c = document.createElement("span");
      c.className = "counter";
      el.insertAdjacentElement("afterend", c);
      var update = function () {
        // Count characters, not UTF-16 units (an emoji is one character), as the server does.
        var n = el.value.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, "_").length;
        c.textContent = n + " / " + max + " 字";
        c.classList.toggle("over", n > max);
      };
      el.addEventListener("input", update);
      update();
    });
  }
  function conditions() {
    var deps = form.querySelectorAll("[data-show-if]");
    if (!deps.length) return;
    var apply = function () {
      each(deps, function (fs) {
        var q = fs.getAttribute("data-show-if");
        var wanted = fs.getAttribute("data-show-values").split(",");
        var picked = Array.prototype.slice.call(form.querySelectorAll('[name="q_' + q + '"]:checked')).map(function (i) { return i.value; });
        var show = picked.some(function (v) { return wanted.indexOf(v) >= 0; });
        fs.hidden = !show;
        var cond = fs.querySelector(".cond");
        if (cond) cond.hidden = true;
      });
      // Number the questions that are shown, so a hidden follow-up leaves no gap.
      var n = 0;
      each(form.querySelectorAll("fieldset.q"), function (fs) {
        var num = fs.querySelector(".qn");
        if (num && !fs.hidden) num.textContent = String(++n);
      });
    };
    form.addEventListener("change", apply);
    apply();
  }
  restore();
  document.getElementById("draft-clear").addEventListener("click", clearDraft);
  counters();
  conditions();
  form.addEventListener("input", function () { dirty = true; save(); });
  form.addEventListener("change", function () { dirty = true; save(); });
  form.addEventListener("submit", function () { save(); dirty = false; });
  window.addEventListener("beforeunload", function (e) {
    if (!dirty) return;
    e.preventDefault();
    e.returnValue = "";
  });
  var first = document.querySelector(".field-error");
  if (first) first.scrollIntoView({ block: "center" });
})();
