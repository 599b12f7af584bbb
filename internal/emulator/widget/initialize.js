// Junction Link widget, as emulated by linkbff: defines window.Vital for
// @tryvital/vital-link (useVitalLink). See internal/emulator/widget.go.
(function () {
  "use strict";
  var LINK_URL = __LINK_URL__;
  var LINK_ORIGIN = new URL(LINK_URL).origin;
  var MESSAGE_TYPE = __MESSAGE_TYPE__;

  function style(node, rules) {
    // Property by property: allowed under a strict style-src CSP.
    Object.keys(rules).forEach(function (name) { node.style[name] = rules[name]; });
  }

  function create(options) {
    options = options || {};
    var overlay = null;
    var frame = null;
    var destroyed = false;

    function call(name, metadata) {
      if (typeof options[name] !== "function") { return; }
      try { options[name](metadata); } catch (err) { setTimeout(function () { throw err; }); }
    }

    function close() {
      if (overlay && overlay.parentNode) { overlay.parentNode.removeChild(overlay); }
      overlay = null;
      frame = null;
      document.removeEventListener("keydown", onKey, true);
    }

    function userExit() {
      close();
      call("onExit", { state: "exit" });
    }

    function onKey(event) {
      if (event.key === "Escape") { userExit(); }
    }

    function onMessage(event) {
      if (!frame || event.source !== frame.contentWindow || event.origin !== LINK_ORIGIN) { return; }
      var data = event.data;
      if (!data || data.type !== MESSAGE_TYPE) { return; }
      var metadata = data.metadata || {};
      close();
      if (data.event === "success") { call("onSuccess", metadata); }
      else if (data.event === "error") { call("onError", metadata); }
      else { call("onExit", metadata); }
    }
    window.addEventListener("message", onMessage);

    function open(token) {
      if (destroyed) { return; }
      if (typeof token !== "string" || token === "") {
        call("onError", { state: "error", error_type: "invalid_token", error: "open() takes the link_token string, not " + typeof token + "." });
        return;
      }
      close();
      overlay = document.createElement("div");
      overlay.setAttribute("data-junction-link", "emulator");
      style(overlay, {
        position: "fixed", top: "0", right: "0", bottom: "0", left: "0", zIndex: "2147483000",
        display: "flex", alignItems: "center", justifyContent: "center",
        background: "rgba(15, 23, 42, 0.55)"
      });
      frame = document.createElement("iframe");
      frame.title = "Junction Link";
      frame.src = LINK_URL + "?token=" + encodeURIComponent(token) +
        "&env=" + encodeURIComponent(options.env || "sandbox") +
        "&region=" + encodeURIComponent(options.region || "us") +
        "&origin=" + encodeURIComponent(window.location.origin);
      style(frame, {
        width: "min(440px, 100vw)", height: "min(760px, 100vh)", border: "0",
        borderRadius: window.innerWidth > 480 ? "16px" : "0", background: "#fff",
        boxShadow: "0 12px 48px rgba(0, 0, 0, 0.25)"
      });
      var closeButton = document.createElement("button");
      closeButton.type = "button";
      closeButton.textContent = "\u00d7";
      closeButton.setAttribute("aria-label", "Close Junction Link");
      style(closeButton, {
        position: "absolute", top: "8px", right: "8px", width: "40px", height: "40px",
        border: "0", borderRadius: "20px", background: "rgba(255, 255, 255, 0.9)",
        font: "24px/1 system-ui, sans-serif", cursor: "pointer"
      });
      closeButton.addEventListener("click", userExit);
      overlay.appendChild(frame);
      overlay.appendChild(closeButton);
      document.body.appendChild(overlay);
      document.addEventListener("keydown", onKey, true);
      frame.focus();
    }

    // exit closes Link; the hook calls it (with {force: true} on unmount)
    // and waits for onExit before destroying the instance.
    function exit() {
      close();
      call("onExit", { state: "exit" });
    }

    function destroy() {
      close();
      window.removeEventListener("message", onMessage);
      destroyed = true;
    }

    setTimeout(function () { if (!destroyed) { call("onLoad"); } }, 0);
    return { open: open, exit: exit, destroy: destroy };
  }

  window.Vital = { create: create };
})();
