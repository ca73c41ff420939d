// Wenji form enhancements. The form works without this file; it only adds:
// character counters, show-if conditions, draft autosave in localStorage, and a warning before leaving
// with unsent text, and, on Back after a submit, says it was sent. Drafts never leave the phone.
(function () {
  "use strict";
  function getJSON(k) { try { return JSON.parse(localStorage.getItem(k) || "null"); } catch (e) { return null; } }
  function setJSON(k, v) { try { localStorage.setItem(k, JSON.stringify(v)); } catch (e) {} }
  // The first characters of a submission key (random): enough to know the page again, too few to compute
  // the hash its stored row keeps, so the device never holds a pointer to it.
  function keyTag(k) { return String(k || "").slice(0, 10); }
  // How this page was reached: navigate, reload or back_forward (older WebViews: the legacy numbers).
  function navigationType() {
    try { var e = performance.getEntriesByType("navigation")[0]; if (e) return e.type; } catch (e) {}
    try { return ["navigate", "reload", "back_forward"][performance.navigation.type] || ""; } catch (e) {}
    return "";
  }
  // Past half an hour a note of what was sent serves only the next person at this device: forget it, for
  // every form, on any form or receipt page.
  try {
    Object.keys(localStorage).forEach(function (k) {
      if (k.indexOf("wenji-sent:") !== 0) return;
      var s = getJSON(k);
      if (!s || !(Date.now() - (s.at || 0) < 30 * 60 * 1000)) localStorage.removeItem(k);
    });
  } catch (e) {}
  var receipt = document.querySelector(".receipt-page");
  if (receipt) {
    // This device's own submit, just sent: forget the draft it sent, and remember which page was sent (for
    // Back). A receipt opened from a chat, or reloaded later, leaves every draft here alone.
    var slug = receipt.getAttribute("data-slug");
    var sending = getJSON("wenji-sending:" + slug);
    // Reached from this form's own page by its submit: a receipt opened from a chat, typed in, reloaded
    // or come back to has no referrer from the form, or another kind of navigation.
    var from = document.createElement("a");
    from.href = document.referrer || "/";
    // A reload too: a send whose answer never came (a proxy's 502, no network) is sent again by reloading
    // the error page, and its receipt arrives as a reload.
    // A receipt shown before and reloaded now (its history entry marked below) answers no send of this visit.
    var nav = navigationType();
    var shownBefore = false;
    try { shownBefore = !!(history.state && history.state.wenjiReceipt); } catch (e) {}
    var submitted = !shownBefore && (nav === "navigate" || nav === "reload") && document.referrer &&
      from.pathname === "/f/" + slug;
    try { history.replaceState({ wenjiReceipt: true }, ""); } catch (e) {}
    // A note without its time was written by the page of the release before an upgrade: just sent too.
    var recent = sending && (sending.at === undefined || Date.now() - sending.at < 10 * 60 * 1000);
    if (sending && !(submitted && recent)) sending = null;
    try {
      Object.keys(localStorage).forEach(function (k) {
        if (!sending || k.indexOf("wenji-draft:" + slug + ":") !== 0) return;
        var d = getJSON(k);
        if (!d || keyTag(d.key) === sending.key) localStorage.removeItem(k);
      });
    } catch (e) {}
    var code = document.getElementById("receipt-code");
    if (sending && code) {
      setJSON("wenji-sent:" + slug, { key: sending.key, receipt: code.textContent, href: location.pathname + location.search, at: Date.now() });
    }
    try { localStorage.removeItem("wenji-sending:" + slug); } catch (e) {}
    return;
  }
  var form = document.getElementById("wenji-form");
  if (!form) return;
  var formSlug = form.getAttribute("data-slug");
  // A form page shown again (a refused submit comes back as one) means no send is on its way: a receipt
  // opened later must not take itself for that send and clear the draft.
  try { localStorage.removeItem("wenji-sending:" + formSlug); } catch (e) {}
  var draftKey = form.getAttribute("data-draft-key");
  // NodeList.forEach and Array.from are missing in older WebViews (WeChat's X5 on old Android).
  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  var dirty = false;
  var DRAFT_DAYS = 7;
  var serverHasValues = !!document.querySelector(".field-error, .notice");
  // An error page is the answer to a post: Back to it from the receipt met the browser's own "Confirm Form
  // Resubmission" (WeChat's WebView keeps no page cache). Its history entry becomes a page to load again,
  // where the receipt's 已提交 note shows; a reload of it keeps the edits through the draft.
  if (serverHasValues) { try { history.replaceState(history.state, "", location.href); } catch (e) {} }

  function fields() {
    return Array.prototype.slice.call(form.elements).filter(function (el) {
      return el.name && (el.name.indexOf("q_") === 0 || el.name === "_category");
    });
  }
  // `sent` marks the draft as what was last posted; edits after that are newer than the server's page.
  function save(sent) {
    // A page shown as already sent (Back after a submit) keeps no draft: it would come back to the next person.
    if (form.hidden) return;
    var data = { key: form.elements["_key"].value, values: {}, sent: !!sent, at: Date.now() };
    fields().forEach(function (el) {
      // Contact details are never kept on the phone: a shared device would show them to the next person.
      if (el.hasAttribute("data-no-draft")) return;
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
    if (!raw) return;
    var data;
    try { data = JSON.parse(raw); } catch (e) { return; }
    if (!data || typeof data.values !== "object" || data.values === null) return;
    // Kept a week at most (the page says so): on a shared phone, older text is someone else's.
    if (!(Date.now() - (data.at || 0) < DRAFT_DAYS * 24 * 3600 * 1000)) {
      try { localStorage.removeItem(draftKey); } catch (e) {}
      return;
    }
    // On a page the server filled in (an error page, also when reloaded), only edits made on that page
    // after it was posted are newer than what the server shows.
    if (serverHasValues && (data.sent !== false || data.key !== form.elements["_key"].value)) return;
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
    // The restored draft brought its writer's submission key: a fresh page gets its own, so the next
    // person's first submit is not taken for a changed resend of theirs.
    location.replace(location.pathname + location.search);
  }
  function counters() {
    each(form.querySelectorAll("[data-max]"), function (el) {
      var max = parseInt(el.getAttribute("data-max"), 10);
      if (!max) return;
      var c = document.createElement("span");
      c.className = "counter";
      // Read with the field, so that a screen reader moved back to it hears how much is over.
      c.id = "count-" + el.name;
      el.setAttribute("aria-describedby", ((el.getAttribute("aria-describedby") || "") + " " + c.id).trim());
      el.insertAdjacentElement("afterend", c);
      var update = function () {
        // Count characters, not UTF-16 units (an emoji is one character), without the invisible ones the
        // server drops (zero-width spaces, direction overrides), as the server does.
        var shown = el.value.replace(/[\u200B\u202A-\u202E\u2060\uFEFF]/g, "").trim();
        var n = shown.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, "_").length;
        // No maxlength on the field: a paste over the limit is kept whole, and the counter says what to cut.
        c.textContent = n + " / " + max + " 字" + (n > max ? "，超出 " + (n - max) + " 字，请删减后再提交" : "");
        c.classList.toggle("over", n > max);
        // Invalid while over, and valid again once cut (unless the server marked it for another reason).
        if (n > max) {
          el.setAttribute("aria-invalid", "true");
          el.setAttribute("data-over", "1");
        } else if (el.getAttribute("data-over")) {
          el.removeAttribute("aria-invalid");
          el.removeAttribute("data-over");
        }
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
        // A hidden (disabled) question's answer shows nothing further down: a chain hides all the way.
        var picked = Array.prototype.slice.call(form.querySelectorAll('[name="q_' + q + '"]:checked:not(:disabled)')).map(function (i) { return i.value; });
        var show = picked.some(function (v) { return wanted.indexOf(v) >= 0; });
        fs.hidden = !show;
        // A hidden follow-up is not sent: its text stays on the page should the answer change back.
        each(fs.querySelectorAll("input, textarea, select"), function (el) { el.disabled = !show; });
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
  // Back after a successful submit shows this page again: say it was sent, with its receipt.
  function showSent() {
    var sent = getJSON("wenji-sent:" + formSlug);
    if (!sent || !sent.receipt) return;
    var back = navigationType() === "back_forward";
    var recent = Date.now() - (sent.at || 0) < 30 * 60 * 1000;
    // Past half an hour the note is of no use to the sender, only to the next person at this device.
    if (!recent) { try { localStorage.removeItem("wenji-sent:" + formSlug); } catch (e) {} return; }
    if (sent.key !== keyTag(form.elements["_key"].value) && !(back && recent)) return;
    // A draft under another key is an opinion written after the one sent: it is restored, not put away.
    var draft = getJSON(draftKey);
    if (draft && draft.key && keyTag(draft.key) !== sent.key) return;
    document.getElementById("sent-receipt").textContent = sent.receipt;
    document.getElementById("sent-link").setAttribute("href", sent.href);
    document.getElementById("sent-note").hidden = false;
    form.hidden = true;
    // What is left is the sent page's own draft.
    try { localStorage.removeItem(draftKey); } catch (e) {}
    each(document.querySelectorAll(".error-summary"), function (el) { el.hidden = true; });
    document.getElementById("draft-note").hidden = true;
    dirty = false;
  }
  document.getElementById("write-again").addEventListener("click", function () {
    try { localStorage.removeItem("wenji-sent:" + formSlug); } catch (e) {}
  });
  window.addEventListener("pageshow", function (e) { if (e.persisted) showSent(); });
  showSent();
  form.addEventListener("input", function () { dirty = true; save(); });
  form.addEventListener("change", function () { dirty = true; save(); });
  form.addEventListener("submit", function (e) {
    // Text over its limit is not sent: the whole page would be refused (over 64 KB, without the form).
    // Only questions shown: a hidden follow-up's fields are disabled, so not sent.
    var over = Array.prototype.filter.call(form.querySelectorAll(".counter.over"), function (c) {
      return !c.closest("[hidden]");
    })[0];
    if (over) {
      e.preventDefault();
      over.previousElementSibling.focus();
      over.scrollIntoView({ block: "center" });
      return;
    }
    save(true);
    setJSON("wenji-sending:" + formSlug, { key: keyTag(form.elements["_key"].value), at: Date.now() });
    dirty = false;
    // On a slow network the page would otherwise not change until the answer comes. Another tap still
    // sends the same key, stored once.
    var button = form.querySelector("button.submit");
    if (button) { button.textContent = "正在提交…"; button.setAttribute("aria-busy", "true"); }
  });
  window.addEventListener("pageshow", function () {
    var button = form.querySelector("button.submit");
    if (button) { button.textContent = "提交"; button.removeAttribute("aria-busy"); }
  });
  window.addEventListener("beforeunload", function (e) {
    if (!dirty) return;
    e.preventDefault();
    e.returnValue = "";
  });
  var first = document.querySelector(".field-error");
  if (first) first.scrollIntoView({ block: "center" });
  // A screen reader reads the summary of what to fix; the page stays at the first question to fix.
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.setAttribute("tabindex", "-1");
    summary.focus({ preventScroll: true });
  }
})();
