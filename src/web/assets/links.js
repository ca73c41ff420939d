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
