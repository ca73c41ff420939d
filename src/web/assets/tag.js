// Wenji keyboard tagging: 1–8 toggle areas, Enter saves and shows the next untagged opinion (prefetched, so
// there is no wait), arrows move back and forth, u undoes, n writes a note, s marks a representative quote,
// x marks invalid. Suggested areas arrive ticked (suggest.js). Without this script the page still works
// through its plain forms.
(function () {
  "use strict";
  var root = document.getElementById("tagger");
  if (!root) return;
  var csrf = root.getAttribute("data-csrf");
  var card = null;          // the opinion shown
  var touched = false;      // a person changed the areas of this opinion
  var original = [];        // its stored areas when shown
  var initial = [];         // its ticked areas when shown (stored, or suggested for an untagged one)
  var prefetched = {};      // after-id -> { at: when fetched, card: promise of the next card }
  var typedAhead = null;    // while the next card is on its way: the keys pressed meanwhile, for that card
  var lastSaved = null;     // the opinion the last Enter saved
  var pending = 0;          // saves not yet answered
  var unsentNotes = {};     // opinion id -> a note typed under it and not yet saved
  // Opinion id -> the areas a save that got no answer chose (network, restart, signed out), ticked again when
  // that opinion is shown, also after "打开意见" reloads the page (kept for this tab only).
  var unsavedAreas = {};
  try { unsavedAreas = JSON.parse(sessionStorage.getItem("wenji-unsaved-areas") || "{}"); } catch (_) { /* none */ }
  function keepUnsaved() {
    try { sessionStorage.setItem("wenji-unsaved-areas", JSON.stringify(unsavedAreas)); } catch (_) { /* private mode */ }
  }
  var queue = Promise.resolve();
  var statusEl = document.getElementById("status");

  function $(id) { return document.getElementById(id); }
  // Each message numbered: a save answering late does not cover a newer one (a refusal) with "已保存".
  var said = 0;
  function setStatus(text) {
    said += 1;
    statusEl.textContent = text;
    statusEl.setAttribute("data-pending", String(pending));
  }
  // A session that has ended is answered with the sign-in page (a redirect), not JSON: say so in words.
  var SIGNED_OUT = "登录已过期：请在新标签页打开 /login 重新登录，再回到这里保存；这里输入的内容还在。";
  var ANOTHER_USER = "这个浏览器已换成另一个账号登录，没有保存；请用原来的账号重新登录后再保存。";
  function readJSON(r) {
    if (r.redirected && r.url.indexOf("/login") >= 0) throw new Error(SIGNED_OUT);
    // Not Wenji's answer (a proxy's error page while it restarts): say what happened, not "signed out".
    if ((r.headers.get("Content-Type") || "").indexOf("json") < 0) {
      throw new Error(r.status >= 500 ? "服务器暂时没有响应（HTTP " + r.status + "），没有保存，请稍后重试。"
        : "服务器的回答无法识别（HTTP " + r.status + "），没有保存，请刷新页面后重试。");
    }
    if (!r.ok) return r.json().then(function (b) {
      var e = new Error(b.error || "保存失败，请刷新页面重试（HTTP " + r.status + "）");
      e.status = r.status;
      throw e;
    });
    return r.json();
  }
  // The tags this page itself last stored, by opinion. A save sends what its card showed ("seen") and the
  // server refuses it if someone else changed them since; after this page's own save, a card fetched
  // before that save finished would look stale, so the page's own result is sent instead.
  var stored = {};
  var onCodes = window.wenjiSuggest.seen;
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(readJSON);
  }
  function post(id, fields) {
    pending += 1;
    setStatus("保存中…");
    var saying = said;
    var p = queue.then(function () {
      var body = new URLSearchParams();
      fields.forEach(function (kv) { body.append(kv[0], kv[0] === "seen" && id in stored ? stored[id] : kv[1]); });
      function send() {
        return fetch("/w/api/opinions/" + id, {
          method: "POST", credentials: "same-origin",
          headers: { "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
          body: body.toString()
        }).then(readJSON);
      }
      // Signed in again in another tab: this page holds the old session's token. Take the new one and
      // send once more (the page's plain forms get it too), if it is the same analyst's session.
      return send().catch(function (e) {
        if (e.status !== 403 || e.message.indexOf("CSRF") < 0) throw e;
        return getJSON("/w/api/csrf").then(function (t) {
          if (String(t.user) !== root.getAttribute("data-user")) throw new Error(ANOTHER_USER);
          csrf = t.csrf;
          document.querySelectorAll("input[name=_csrf]").forEach(function (i) { i.value = csrf; });
          return send();
        });
      });
    });
    queue = p.then(function () {}, function () {});
    return p.then(function (res) {
      stored[res.card.id] = onCodes(res.card);
      if (typeof res.pending === "number") text($("pending"), String(res.pending));
      pending -= 1;
      // Named by opinion, so a screen reader hears each save, not one unchanged "已保存".
      if (said === saying || pending === 0 && statusEl.textContent === "保存中…") {
        setStatus(pending ? "保存中…" : "意见 " + id + " 已保存");
      }
      return res;
    }, function (e) {
      pending -= 1;
      delete stored[id];
      // fetch itself failed: no answer at all (the network, or the server stopped).
      if (e instanceof TypeError) e = new Error("网络中断或服务器没有响应，没有保存，请检查网络后重试。");
      var chosen = fields.filter(function (kv) { return kv[0] === "area"; }).map(function (kv) { return kv[1]; });
      // Only where the server gave no verdict: a refusal (409, 400) is about the areas themselves.
      if ((!e.status || e.status >= 500) && fields.some(function (kv) { return kv[0] === "op" && kv[1] === "save"; })) {
        var seenThen = fields.filter(function (kv) { return kv[0] === "seen"; }).map(function (kv) { return kv[1]; });
        unsavedAreas[id] = { areas: chosen, seen: seenThen[0] || "" };
        keepUnsaved();
        e = new Error(e.message + "（所选领域 " + (chosen.join("、") || "无") + " 已记下，打开这条意见时会重新勾选）");
      }
      setStatus("意见 " + id + "：" + e.message + " ");
      // The card has moved on: a link goes back to the opinion the refusal is about.
      statusEl.appendChild(backTo(id));
      // The status line is the next save's soon: refusals stay listed below it until the page changes.
      var li = document.createElement("li");
      li.textContent = "意见 " + id + " 没有保存：" + e.message + " ";
      li.appendChild(backTo(id));
      refusals.appendChild(li);
      refusals.hidden = false;
      throw e;
    });
  }
  // A note's one-time token: the same note sent twice at once is stored once.
  function onceToken() {
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }
  function backTo(id) {
    var a = document.createElement("a");
    a.href = "/w/tag/" + id;
    a.textContent = "打开意见 " + id;
    return a;
  }
  var refusals = document.createElement("ul");
  refusals.id = "refusals";
  refusals.hidden = true;
  statusEl.parentNode.insertBefore(refusals, statusEl.nextSibling);
  function checkedAreas() {
    var out = [];
    document.querySelectorAll("#areas input[name=area]").forEach(function (b) { if (b.checked) out.push(b.value); });
    return out;
  }
  function text(el, s) { el.textContent = s == null ? "" : s; }
  function hide(el, yes) { el.classList.toggle("hidden", !!yes); }

  function render(c) {
    // The note of a link made from another card does not stay under this one.
    var linked = $("linked");
    if (linked && card && c.id !== card.id) linked.hidden = true;
    // A note typed and not saved stays with the opinion it was written under, never under the next one.
    var box = $("note-text");
    if (card && c.id !== card.id) {
      if (box.value.trim()) unsentNotes[card.id] = box.value; else delete unsentNotes[card.id];
      box.value = unsentNotes[c.id] || "";
    }
    // The same card again (after a note, s or x was saved): areas typed meanwhile are kept, not reset.
    var keep = card && c.id === card.id && touched ? checkedAreas() : null;
    // A save of this opinion was refused: its chosen areas come back ticked, to be saved with Enter.
    // Only onto the areas they were chosen against: a colleague's change since is shown, not overwritten.
    var kept = unsavedAreas[c.id];
    if (!keep && kept) {
      delete unsavedAreas[c.id];
      keepUnsaved();
      if (kept.seen === onCodes(c)) keep = kept.areas;
      else setStatus("意见 " + c.id + " 在您上次保存失败后已被改动，您记下的领域（" + (kept.areas.join("、") || "无") + "）没有重新勾选，请核对后再选。");
    }
    var another = !card || c.id !== card.id;
    card = c;
    touched = !!keep;
    root.setAttribute("data-id", String(c.id));
    root.setAttribute("data-ready", "1");
    text($("c-form"), c.form); text($("c-question"), c.question); text($("c-unit"), c.unit);
    text($("c-category"), c.category); text($("c-date"), c.date);
    text($("c-state"), c.state_label); $("c-state").setAttribute("data-state", c.state);
    hide($("c-dup"), !c.duplicate); hide($("c-rep"), !c.representative);
    hide($("c-double"), !c.double_coded); hide($("c-blind"), !c.blind);
    hide($("c-cluster"), !(c.cluster_size > 1)); $("c-cluster").setAttribute("href", "/w/clusters/" + c.id); text($("c-cluster-n"), c.cluster_size);
    var t = $("c-text"); t.textContent = "";
    c.runs.forEach(function (r) {
      if (r.mark) { var m = document.createElement("mark"); m.textContent = r.text; t.appendChild(m); }
      else t.appendChild(document.createTextNode(r.text));
    });
    window.wenjiSuggest.render($("c-suggest"), c);
    window.wenjiSuggest.formFields($("sugg-fields"), $("b-accept"), c);
    original = []; initial = [];
    c.areas.forEach(function (a) {
      var label = document.querySelector("#areas label[data-code='" + a.code + "']");
      label.querySelector("input").checked = keep ? keep.indexOf(String(a.code)) >= 0 : a.ticked;
      if (a.ticked) initial.push(String(a.code));
      label.classList.toggle("suggested", a.suggested);
      text(label.querySelector(".src"), a.source_label || "");
      if (a.on) original.push(String(a.code));
    });
    var others = $("c-others"); others.textContent = "";
    c.others.forEach(function (o) {
      var dt = document.createElement("dt"); dt.textContent = o.question; others.appendChild(dt);
      var dd = document.createElement("dd"); dd.textContent = o.answer; others.appendChild(dd);
    });
    var notes = $("c-notes"); notes.textContent = "";
    c.notes.forEach(function (n) {
      var li = document.createElement("li"); var who = document.createElement("span");
      who.className = "muted"; who.textContent = n.author + " " + n.date; li.appendChild(who);
      li.appendChild(document.createTextNode(" " + n.text)); notes.appendChild(li);
    });
    ["tagform", "repform", "stateform", "noteform"].forEach(function (f) { $(f).action = "/w/tag/" + c.id; });
    $("tagform").querySelector("input[name=seen]").value = c.id in stored ? stored[c.id] : onCodes(c);
    $("rep-on").value = c.representative ? "0" : "1";
    $("stateform").querySelector("select").value = c.state;
    $("prev").href = c.prev_id ? "/w/tag/" + c.prev_id : "#";
    $("next").href = c.next_id ? "/w/tag/" + c.next_id : "#";
    document.querySelector("#kwform input[name=back]").value = "/w/tag/" + c.id;
    if (history.replaceState) history.replaceState(null, "", "/w/tag/" + c.id);
    // A screen reader hears which opinion is now shown, and its beginning.
    if (another) text($("announce"), "意见 " + c.id + "：" + $("c-text").textContent.slice(0, 80));
    prefetch(c.id);
  }
  // A card fetched more than this long ago is fetched again before it is shown: a colleague may have
  // tagged it meanwhile (a save from a stale card is refused, but costs the analyst a retry).
  var FRESH_MS = 10000;
  function prefetch(after, freshOnly) {
    var e = prefetched[after];
    if (!e || (freshOnly && Date.now() - e.at > FRESH_MS)) {
      e = prefetched[after] = { at: Date.now(), card: null };
      e.card = getJSON("/w/api/next?after=" + after).catch(function () {
        if (prefetched[after] === e) delete prefetched[after];
        return null;
      });
    }
    return e.card;
  }
  function show(id) {
    return getJSON("/w/api/opinions/" + id).then(render);
  }
  // An arrow key moves to another card: keys typed before it shows are that card's too.
  function moveTo(id) {
    typedAhead = [];
    show(id).then(replay, function () { typedAhead = null; setStatus("无法载入意见 " + id + "，请刷新"); });
  }
  function replay() {
    var keys = typedAhead || [];
    typedAhead = null;
    for (var i = 0; i < keys.length; i += 1) {
      // An Enter among them saves again and waits for the card after: the keys after it are that one's.
      if (typedAhead) { typedAhead.push(keys[i]); continue; }
      // n and what was typed after it: a note for this card, in its box.
      if (keys[i] === "n") {
        note();
        $("note-text").value += keys.slice(i + 1).filter(function (k) { return k.length === 1; }).join("");
        return;
      }
      // A refused Enter keeps the card: the keys after it were meant for a card that did not come.
      if (command(keys[i]) === false) return;
    }
  }

  function save() {
    var c = card;
    var areas = checkedAreas();
    // An untagged opinion with nothing ticked (a suggestion's key pressed to untick it) stays: Enter moved on
    // silently and the analyst believed it tagged.
    if (!areas.length && !original.length && c.state === "pending") {
      var why = "没有勾选任何领域，这条意见没有保存：按数字键 1–8 选择领域再按 Enter；要跳过请按 →";
      setStatus(why);
      var li = document.createElement("li");
      li.textContent = "意见 " + c.id + " " + why;
      refusals.appendChild(li);
      refusals.hidden = false;
      return false;
    }
    touched = false;
    var fields = window.wenjiSuggest.fields(c, areas);
    var unchanged = !window.wenjiSuggest.worthSaving(c, areas, original);
    var saving = unchanged ? Promise.resolve(null) : post(c.id, fields);
    if (!unchanged) lastSaved = c.id;
    // Keys pressed before the next card shows are its keys, not this (saved) one's: they wait for it.
    typedAhead = [];
    prefetch(c.id, true).then(function (next) {
      delete prefetched[c.id];
      if (next) { render(next); replay(); } else {
        // Nothing left after this one: show it again with its saved tags.
        saving.then(function (res) { if (res) render(res.card); setStatus("全部归类完毕"); replay(); }, replay);
      }
    });
  }
  function flush() {
    // Arrow keys keep changes made with the number keys.
    if (touched) { touched = false; lastSaved = card.id; post(card.id, window.wenjiSuggest.fields(card, checkedAreas())); }
  }
  function undo() {
    if (touched) {
      document.querySelectorAll("#areas input[name=area]").forEach(function (b) { b.checked = initial.indexOf(b.value) >= 0; });
      touched = false;
      return;
    }
    var id = lastSaved || card.id;
    lastSaved = null;
    // Keys pressed before the undone card is back are its keys, not the card shown meanwhile.
    typedAhead = [];
    post(id, [["op", "undo"]]).then(function (res) { render(res.card); if (!pending) setStatus("已撤销"); replay(); },
      function () { typedAhead = null; });
  }
  // Before another page opens (p: the problem chooser), the areas changed on this card are saved; a
  // failed save keeps the page, its message shown.
  function settle() {
    if (!touched) return queue;
    lastSaved = card.id;
    touched = false;
    return post(card.id, window.wenjiSuggest.fields(card, checkedAreas())).then(function (res) { render(res.card); },
      function (e) { touched = true; throw e; });  // not saved: the next p tries again
  }
  window.wenjiTagger = { settle: settle };
  // A click on 典型意见, the state, the note or a keyword posts its form and reloads the card: areas ticked
  // and not yet saved are saved first (they were lost).
  ["repform", "stateform", "noteform", "kwform"].forEach(function (id) {
    $(id).addEventListener("submit", function (e) {
      if (!touched) return;
      e.preventDefault();
      var form = e.target;
      settle().then(function () { form.submit(); }, function () {});
    });
  });
  // Unsaved notes are only in this page: leaving it asks first.
  var sendingNote = false;
  $("noteform").addEventListener("submit", function () { sendingNote = true; });
  window.addEventListener("beforeunload", function (e) {
    var here = $("note-text").value.trim() && !sendingNote;
    if (here || Object.keys(unsentNotes).length) { e.preventDefault(); e.returnValue = ""; }
  });
  function note() {
    var t = $("note-text");
    t.focus();
  }

  document.addEventListener("keydown", function (e) {
    // Keys that compose Chinese (pinyin, Enter choosing a word) belong to the input method.
    if (e.isComposing || e.keyCode === 229) return;
    var tag = (e.target && e.target.tagName) || "";
    if (e.target && e.target.id === "note-text") {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        var box = e.target, v = box.value.trim();
        // The note stays in its box until it is stored: a failed save (signed out) loses nothing.
        var id = card.id;
        if (v) post(id, [["op", "note"], ["text", v], ["_once", onceToken()]]).then(function (res) {
          delete unsentNotes[id];
          // Only the text sent is cleared: a next note typed while this one was saving stays.
          if (card.id === id) { if (box.value.trim() === v) box.value = ""; render(res.card); }
        }, function () {});
        box.blur();
      } else if (e.key === "Escape") { e.target.blur(); }
      return;
    }
    // Enter and Space on a link or button are theirs (follow, press); an area box keeps every shortcut, so
    // a box ticked with Space is saved with Enter without leaving it.
    var activates = (tag === "A" || tag === "BUTTON" || tag === "SUMMARY") && (e.key === "Enter" || e.key === " ");
    var areaBox = tag === "INPUT" && e.target.name === "area" && e.target.type === "checkbox";
    var typing = !areaBox && (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT");
    if (activates || typing || e.ctrlKey || e.metaKey || e.altKey) return;
    // After n, while the next card loads, every character is the note's (replayed into its box).
    if (typedAhead && typedAhead.indexOf("n") >= 0 && e.key.length === 1) {
      e.preventDefault();
      typedAhead.push(e.key);
      return;
    }
    if (!card || COMMANDS.indexOf(e.key) < 0) return;
    e.preventDefault();
    if (typedAhead) typedAhead.push(e.key); else command(e.key);
  });
  var COMMANDS = ["1", "2", "3", "4", "5", "6", "7", "8", "Enter", "ArrowRight", "ArrowLeft", "u", "n", "s", "x", "p"];
  // False when the command was refused (an Enter with nothing ticked).
  function command(k) {
    if (k >= "1" && k <= "8") {
      var box = document.querySelector("#areas input[value='" + k + "']");
      box.checked = !box.checked; touched = true;
    } else if (k === "Enter") return save();
    else if (k === "p" && window.wenjiProblemKey) window.wenjiProblemKey.open();
    else if (k === "ArrowRight") { flush(); if (card.next_id) moveTo(card.next_id); }
    else if (k === "ArrowLeft") { flush(); if (card.prev_id) moveTo(card.prev_id); }
    else if (k === "u") undo();
    else if (k === "n") note();
    else if (k === "s") post(card.id, [["op", "representative"], ["on", card.representative ? "0" : "1"]]).then(renderIfShown);
    else if (k === "x") post(card.id, [["op", "state"], ["state", card.state === "invalid" ? "pending" : "invalid"]]).then(renderIfShown);
  }
  // The answer to s or x redraws its card only while it is still the one shown: Enter may have moved on,
  // and drawing the old card back would send the next keys to it.
  function renderIfShown(res) {
    if (card && card.id === res.card.id) render(res.card);
  }
  // Mouse, touch and Space: ticking an area counts as typing it (the focus stays where it is).
  document.querySelectorAll("#areas input[name=area]").forEach(function (b) { b.addEventListener("change", function () { touched = true; }); });
  show(Number(root.getAttribute("data-id"))).catch(function () { setStatus("无法载入，请刷新"); });
})();
