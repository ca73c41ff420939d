// Wenji suggestions on the tagging screen (loaded before tag.js): suggested areas arrive ticked, a number
// key toggles one area from there, and Enter saves. A ticked area counts as an accepted suggestion only
// if it was suggested for an untagged opinion and a person kept it; anything else is typed.
window.wenjiSuggest = (function () {
  "use strict";
  function codes(card) { return card.suggestions.map(function (s) { return String(s.code); }); }
  // The stored areas the card shows, as a save sends them back ("seen"; `OpinionCard::seen` on the server):
  // the server refuses the save if someone changed them since.
  function seen(card) {
    return card.areas.filter(function (a) { return a.on; }).map(function (a) { return String(a.code); }).join(",") || "none";
  }
  return {
    seen: seen,
    // The fields of a save with the areas ticked now, and the suggestion the card showed (a second coder
    // whose card showed one, drawn before the first coding landed, is refused and shown the card blind).
    fields: function (card, areas) {
      var f = [["op", "save"], ["seen", seen(card)]];
      codes(card).forEach(function (c) { f.push(["shown", c]); });
      var sugg = card.pretick ? codes(card) : [];
      areas.forEach(function (a) {
        f.push(["area", a]);
        if (sugg.indexOf(a) >= 0) f.push(["suggested", a]);
      });
      return f;
    },
    // Whether Enter has something to store: a change, or a person confirming the ticked suggestion.
    worthSaving: function (card, areas, original) {
      var same = areas.length === original.length && areas.every(function (a) { return original.indexOf(a) >= 0; });
      return !same || (card.pretick && areas.length > 0);
    },
    // The plain form's fields for this card (a mouse click on 保存 or 采纳建议 posts the form, not the
    // script): the suggestion shown, which 采纳建议 adds, and, for an untagged opinion, what counts as accepted.
    formFields: function (el, button, card) {
      el.textContent = "";
      codes(card).forEach(function (code) {
        [["shown", true], ["suggested", card.pretick]].forEach(function (f) {
          if (!f[1]) return;
          var input = document.createElement("input");
          input.type = "hidden"; input.name = f[0]; input.value = code; el.appendChild(input);
        });
      });
      button.classList.toggle("hidden", !card.suggestions.length);
    },
    // The suggestion line: each area with why the model suggested it.
    render: function (el, card) {
      el.textContent = "";
      if (!card.suggestions.length) {
        var none = document.createElement("span"); none.className = "muted";
        none.textContent = card.blind ? "双人归类的第二位不看建议：请独立判断，按数字键选择"
          : "没有建议：模型没有把握，请按数字键选择";
        el.appendChild(none);
        return;
      }
      var head = document.createElement("span");
      head.textContent = card.pretick ? "建议（已预先勾选，按数字键增减，Enter 确认）：" : "建议：";
      el.appendChild(head);
      var ul = document.createElement("ul"); ul.className = "why";
      card.suggestions.forEach(function (s) {
        var li = document.createElement("li");
        var sp = document.createElement("span"); sp.className = "sugg"; sp.setAttribute("data-code", s.code);
        sp.textContent = s.code + " " + s.name; li.appendChild(sp);
        var why = document.createElement("span"); why.className = "muted"; why.textContent = " " + s.why;
        li.appendChild(why); ul.appendChild(li);
      });
      el.appendChild(ul);
    }
  };
})();
