// The links page: a copy button beside each address. Without JavaScript the button stays hidden and
// the address field is there to select and copy by hand.
"use strict";
document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
  var field = document.getElementById(button.getAttribute("data-copy"));
  var status = button.parentNode.querySelector(".copied");
  if (!field) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    var say = function (text) { if (status) status.textContent = text; };
    var fallback = function () {
      // Older browsers and pages not served over HTTPS have no clipboard API.
      field.focus();
      field.select();
      say(document.execCommand && document.execCommand("copy") ? "已复制" : "请按 Ctrl+C 复制");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { say("已复制"); }, fallback);
    } else {
      fallback();
    }
  });
});

// The category list offers the chosen form's categories only (every form's were listed, and a category of
// another form was refused after sending). Without JavaScript all are listed, each under its form's title.
(function () {
  var form = document.querySelector(".link-form select[name=form]");
  var category = document.querySelector(".link-form select[name=category]");
  if (!form || !category) return;
  var all = Array.prototype.slice.call(category.options, 1).map(function (o) {
    return { value: o.value, text: o.text.slice(o.text.indexOf("：") + 1) };
  });
  function offer() {
    var prefix = form.value + ":", chosen = category.value;
    while (category.options.length > 1) category.remove(1);
    all.forEach(function (o) { if (o.value.indexOf(prefix) === 0) category.add(new Option(o.text, o.value)); });
    category.value = chosen.indexOf(prefix) === 0 ? chosen : "";
  }
  form.addEventListener("change", offer);
  offer();
})();
