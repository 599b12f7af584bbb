// The linkbff demo: sign in, connect a provider through Junction Link in a
// popup (or a full-page redirect when popups are blocked), list and
// disconnect connections. Connections update the moment linkbff hears of
// them, from its event stream (GET /v1/events, read with fetch so the token
// travels in a header, never in a URL); only while that stream is down
// does the page poll. Plain DOM, no framework, no inline script, so it runs
// under a strict `script-src 'self'` CSP. Text from the network or the URL
// is only ever set with textContent.
"use strict";

(function () {
  var SESSION_KEY = "linkbff.session";
  var POPUP_NAME = "linkbff-link";
  var POPUP_FEATURES = "popup=yes,width=480,height=720";
  // Without the event stream, the webhook may land a moment after Link
  // finishes: poll briefly.
  var REFRESH_ATTEMPTS = 8;
  var REFRESH_INTERVAL_MS = 750;
  // Reconnecting the stream: what the server's retry: says, else this.
  var STREAM_RETRY_MS = 3000;

  // Friendly words per Link error_type (Junction's list is non-exhaustive:
  // anything else gets the generic text). {name} is the provider's name.
  var LINK_ERRORS = {
    provider_credential_error: ["Sign-in didn't work", "{name} did not accept the email or password. Check them and try again."],
    incorrect_mfa_code: ["Wrong verification code", "The verification code was not accepted. Try again with a fresh code."],
    provider_password_expired: ["Password expired", "Your {name} password has expired. Renew it at {name}, then connect again."],
    required_scopes_not_granted: ["Access not given", "You didn't allow {name} to share the data this app needs. To connect it, press Connect again and allow access."],
    duplicate_connection: ["Already connected to someone else", "This {name} account is already connected to another user. Use a different {name} account."],
    unsupported_region: ["Not available in your region", "{name} cannot be connected from your region."],
    provider_api_error: ["{name} is having trouble", "{name} did not respond as expected. Try again in a few minutes."],
    token_expired: ["The link expired", "The connection window was open too long. Press Connect to start again."],
    token_consumed: ["This link was already used", "Each connection link works once. Press Connect to start again."],
    invalid_token: ["This link is not valid", "The connection could not start. Press Connect to try again."],
    token_not_validated: ["This link is not valid", "The connection could not start. Press Connect to try again."]
  };
  var GENERIC_LINK_ERROR = ["Connection failed", "{name} could not be connected. Try again, and contact support if it keeps happening."];

  // Problems Junction reports on an existing connection (webhooks); each
  // is fixed by connecting again (Reconnect).
  var CONNECTION_ERRORS = {
    token_refresh_failed: "Access to {name} expired. Reconnect to keep receiving data.",
    provider_credential_error: "{name} no longer accepts the sign-in. Reconnect with your current details.",
    required_scopes_not_granted: "Some permissions were removed at {name}. Reconnect and allow access."
  };
  var GENERIC_CONNECTION_ERROR = "{name} reported a problem with this connection. Reconnect to fix it.";

  var $ = function (id) { return document.getElementById(id); };
  var state = {
    session: null,
    names: {},        // provider slug → display name
    providers: [],    // GET /v1/providers
    connections: [],  // GET /v1/connections
    attempt: null,    // the Link attempt in progress: {provider, popup, done}
    refreshGeneration: 0,
    // The event stream: live while open; lastEventId resumes it.
    stream: { live: false, abort: null, lastEventId: "", retryMs: STREAM_RETRY_MS, timer: null }
  };

  // ---------- small helpers ----------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function providerName(slug) {
    if (!slug) { return "The provider"; }
    if (state.names[slug]) { return state.names[slug]; }
    // Before the catalogue has loaded (e.g. not signed in): "whoop_v2" → "Whoop v2".
    var words = String(slug).slice(0, 64).replace(/_/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function fill(template, slug) {
    return template.split("{name}").join(providerName(slug));
  }

  function delay(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  // ---------- session ----------

  function loadSession() {
    try {
      var saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
      if (saved && saved.token && (!saved.expires_at || Date.parse(saved.expires_at) > Date.now())) {
        return saved;
      }
    } catch (e) { /* a corrupt entry is the same as none */ }
    sessionStorage.removeItem(SESSION_KEY);
    return null;
  }

  function saveSession(session) {
    state.session = session;
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  }

  function signOut(message) {
    state.session = null;
    sessionStorage.removeItem(SESSION_KEY);
    stopStream();
    render();
    if (message) { showSignInError(message); }
  }

  // ---------- API ----------

  function ApiError(status, code, message, field) {
    this.status = status;
    this.code = code;
    this.message = message;
    this.field = field;
  }

  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (state.session) { headers.Authorization = "Bearer " + state.session.token; }
    var init = { method: method, headers: headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (res) {
      if (res.status === 204) { return null; }
      return res.json().catch(function () { return null; }).then(function (data) {
        if (res.ok) { return data; }
        var err = (data && data.error) || {};
        var apiErr = new ApiError(res.status, err.code || "http_" + res.status, err.message || "The server answered " + res.status + ".", err.field);
        if (res.status === 401 && path.indexOf("/v1/") === 0) {
          signOut("Your session has ended. Sign in again.");
        }
        throw apiErr;
      });
    }, function () {
      throw new ApiError(0, "network", "linkbff could not be reached. Is it running?");
    });
  }

  function describeApiError(err) {
    if (err && err.code === "rate_limited") { return "Too many attempts. Wait a moment and try again."; }
    return (err && err.message) || "Something went wrong.";
  }

  // ---------- outcome banner ----------

  function showOutcome(status, errorType, title, message) {
    var box = $("outcome");
    box.setAttribute("data-status", status);
    box.setAttribute("data-error-type", errorType || "");
    $("outcome-title").textContent = title;
    $("outcome-message").textContent = message;
    box.hidden = false;
  }

  // showLinkOutcome explains a Link result; status and errorType come from
  // the callback (postMessage or the return_to query), so they are only
  // words to show: the connection list is the truth.
  function showLinkOutcome(status, provider, errorType) {
    if (status === "connected") {
      showOutcome("connected", "", providerName(provider) + " connected",
        "It can take a moment before the first data shows up.");
      return;
    }
    if (status === "cancelled" || errorType === "user_cancelled") {
      showOutcome("cancelled", errorType || "user_cancelled", "Nothing was connected",
        "You closed the window before finishing. You can connect " + providerName(provider) + " any time.");
      return;
    }
    var words = Object.prototype.hasOwnProperty.call(LINK_ERRORS, errorType) ? LINK_ERRORS[errorType] : GENERIC_LINK_ERROR;
    showOutcome("error", errorType || "", fill(words[0], provider), fill(words[1], provider));
  }

  // ---------- rendering ----------

  function render() {
    var signedIn = !!state.session;
    $("signin-panel").hidden = signedIn;
    $("providers-panel").hidden = !signedIn;
    $("connections-panel").hidden = !signedIn;
    $("sign-out").hidden = !signedIn;
    $("whoami").hidden = !signedIn;
    if (signedIn) {
      $("whoami").textContent = state.session.user ? "Signed in as " + state.session.user : "Signed in with your token";
    } else {
      state.providers = [];
      state.connections = [];
      $("providers").textContent = "";
      $("connections").textContent = "";
      $("outcome").hidden = true;
    }
  }

  function logoImage(src) {
    var img = el("img", { class: "logo", alt: "", width: "40", height: "40"});
    img.addEventListener("error", function () { img.removeAttribute("src"); });
    if (src) { img.src = src; }
    return img;
  }

  function connectionOf(slug) {
    for (var i = 0; i < state.connections.length; i++) {
      if (state.connections[i].provider === slug) { return state.connections[i]; }
    }
    return null;
  }

  function connectButton(slug, name, label) {
    return el("button", { type: "button", class: "primary", "data-connect": slug, "aria-label": label + " " + name, text: label });
  }

  // renderProviders shows each provider with what can be done now: Connect,
  // Reconnect when its connection needs attention, nothing when connected.
  function renderProviders() {
    var list = $("providers");
    list.textContent = "";
    state.providers.forEach(function (p) {
      state.names[p.slug] = p.name;
      var connection = connectionOf(p.slug);
      var action;
      if (p.auth_type === "sdk") {
        action = el("span", { class: "note", text: "Mobile app only" });
      } else if (connection && connection.status === "connected") {
        action = el("span", { class: "badge connected", "data-state": "connected", text: "Connected" });
      } else if (connection && connection.status === "error") {
        action = connectButton(p.slug, p.name, "Reconnect");
      } else {
        action = connectButton(p.slug, p.name, "Connect");
      }
      list.appendChild(el("li", { "data-provider": p.slug }, [
        logoImage(p.logo),
        el("span", { class: "info" }, [
          el("span", { class: "name", text: p.name }),
          p.description ? el("span", { class: "detail", text: p.description }) : null
        ]),
        action
      ]));
    });
  }

  function formatDate(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return ""; }
    return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  function renderConnections() {
    var connections = state.connections;
    var list = $("connections");
    list.textContent = "";
    $("connections-empty").hidden = connections.length > 0;
    connections.forEach(function (c) {
      if (c.name) { state.names[c.provider] = c.name; }
      var name = providerName(c.provider);
      var badgeClass = c.status === "connected" || c.status === "error" ? c.status : "other";
      var badgeText = c.status === "connected" ? "Connected" : c.status === "error" ? "Needs attention" : String(c.status);
      var details = [el("span", { class: "name", text: name }), el("span", { class: "badge " + badgeClass, text: badgeText })];
      if (c.status === "error") {
        var template = Object.prototype.hasOwnProperty.call(CONNECTION_ERRORS, c.error_type) ? CONNECTION_ERRORS[c.error_type] : GENERIC_CONNECTION_ERROR;
        details.push(el("span", { class: "problem", text: fill(template, c.provider) }));
      } else if (c.connected_at) {
        details.push(el("span", { class: "detail", text: "Since " + formatDate(c.connected_at) }));
      }
      var actions = [];
      if (c.status === "error") { actions.push(connectButton(c.provider, name, "Reconnect")); }
      actions.push(el("button", { type: "button", class: "danger", "data-disconnect": c.provider, "aria-label": "Disconnect " + name, text: "Disconnect" }));
      list.appendChild(el("li", { "data-connection": c.provider, "data-status": c.status, "data-via": c.via || "list" }, [
        logoImage(c.logo),
        el("span", { class: "info" }, details),
        el("span", { class: "actions" }, actions)
      ]));
    });
  }

  // ---------- data ----------

  function loadProviders() {
    return api("GET", "/v1/providers").then(function (data) {
      state.providers = (data && data.providers) || [];
      renderProviders();
    }, function (err) {
      if (state.session) { showOutcome("error", "", "Could not load providers", describeApiError(err)); }
    });
  }

  function loadConnections() {
    return api("GET", "/v1/connections").then(function (data) {
      state.connections = (data && data.connections) || [];
      renderConnections();
      renderProviders();
      return state.connections;
    });
  }

  // refreshConnections reloads the list and, while the event stream is
  // down, polls a few times until `until(connections)` holds, since the
  // webhook can arrive after the user. A newer refresh supersedes an older
  // one.
  function refreshConnections(until) {
    var generation = ++state.refreshGeneration;
    var attempt = 0;
    function once() {
      if (generation !== state.refreshGeneration || !state.session) { return Promise.resolve(); }
      attempt++;
      return loadConnections().then(function (connections) {
        if (!until || until(connections) || attempt >= REFRESH_ATTEMPTS || state.stream.live) { return; }
        return delay(REFRESH_INTERVAL_MS).then(once);
      }, function (err) {
        if (state.session) { showOutcome("error", "", "Could not load your connections", describeApiError(err)); }
      });
    }
    return once();
  }

  function isConnected(provider) {
    return function (connections) {
      return connections.some(function (c) { return c.provider === provider && c.status === "connected"; });
    };
  }

  // ---------- live events ----------

  // applyEvent updates the page from one stream event (StreamEvent in
  // linkbff's OpenAPI document): no request needed.
  function applyEvent(type, event) {
    var provider = event.provider;
    if (type === "connection.created" || type === "connection.error") {
      var known = connectionOf(provider);
      var catalogue = state.providers.filter(function (p) { return p.slug === provider; })[0] || {};
      var updated = {
        provider: provider,
        name: (known && known.name) || catalogue.name || providerName(provider),
        logo: (known && known.logo) || catalogue.logo || "",
        status: type === "connection.created" ? "connected" : "error",
        connected_at: (known && known.connected_at) || (type === "connection.created" ? event.created_at : null),
        error_type: type === "connection.error" ? event.error_type : null,
        via: "stream"
      };
      state.connections = state.connections.filter(function (c) { return c.provider !== provider; }).concat([updated])
        .sort(function (a, b) { return a.provider < b.provider ? -1 : 1; });
      renderConnections();
      renderProviders();
      if (type === "connection.created" && state.attempt && state.attempt.provider === provider) {
        state.attempt.done = true;
        showLinkOutcome("connected", provider, "");
      }
    } else if (type === "connection.disconnected") {
      state.connections = state.connections.filter(function (c) { return c.provider !== provider; });
      renderConnections();
      renderProviders();
    } else if (type === "link.completed") {
      // What the browser reported in Link's window; the popup's message
      // usually says it first. A connection is confirmed by connection.created.
      var attempt = state.attempt;
      if (attempt && !attempt.done && (!provider || provider === attempt.provider) && event.status !== "connected") {
        attempt.done = true;
        showLinkOutcome(event.status, attempt.provider, event.error_type || "");
      }
    }
  }

  // sseParser turns text chunks into Server-Sent Events blocks.
  function sseParser(onBlock) {
    var buffer = "";
    var block = { data: [] };
    return function (chunk) {
      buffer += chunk;
      var lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop();
      lines.forEach(function (line) {
        if (line === "") {
          onBlock(block);
          block = { data: [] };
          return;
        }
        if (line.charAt(0) === ":") { return; }
        var colon = line.indexOf(":");
        var field = colon < 0 ? line : line.slice(0, colon);
        var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") { block.data.push(value); }
        else if (field === "id") { block.id = value; }
        else if (field === "event") { block.event = value; }
        else if (field === "retry" && /^[0-9]+$/.test(value)) { block.retry = parseInt(value, 10); }
      });
    };
  }

  function setLive(live) {
    state.stream.live = live;
    $("live").hidden = !live;
    $("live").setAttribute("data-state", live ? "on" : "off");
    document.body.setAttribute("data-stream", live ? "live" : "off");
  }

  // startStream opens GET /v1/events and resolves once it is open (or
  // could not open); it reconnects by itself, with Last-Event-ID, until
  // sign-out.
  function startStream() {
    stopStream();
    if (!state.session || !window.fetch || !window.ReadableStream || !window.TextDecoder) { return Promise.resolve(false); }
    var controller = new AbortController();
    state.stream.abort = controller;
    var headers = { "Accept": "text/event-stream", "Authorization": "Bearer " + state.session.token };
    if (state.stream.lastEventId) { headers["Last-Event-ID"] = state.stream.lastEventId; }
    var opened;
    var open = new Promise(function (resolve) { opened = resolve; });
    fetch("/v1/events", { headers: headers, signal: controller.signal, cache: "no-store" }).then(function (res) {
      var type = res.headers.get("Content-Type") || "";
      if (!res.ok || type.indexOf("text/event-stream") !== 0) {
        opened(false);
        if (res.status === 401) { signOut("Your session has ended. Sign in again."); return; }
        var wait = parseInt(res.headers.get("Retry-After") || "", 10);
        reconnectStream(controller, isNaN(wait) ? state.stream.retryMs : wait * 1000);
        return;
      }
      setLive(true);
      opened(true);
      var reader = res.body.getReader();
      var decoder = new TextDecoder();
      var feed = sseParser(function (block) {
        if (block.id !== undefined) { state.stream.lastEventId = block.id; }
        if (block.retry !== undefined) { state.stream.retryMs = block.retry; }
        if (!block.data.length || !block.event) { return; }
        var event;
        try { event = JSON.parse(block.data.join("\n")); } catch (e) { return; }
        applyEvent(block.event, event);
      });
      function pump() {
        return reader.read().then(function (step) {
          if (step.done) { throw new Error("stream ended"); }
          feed(decoder.decode(step.value, { stream: true }));
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      opened(false);
      reconnectStream(controller, state.stream.retryMs);
    });
    return open;
  }

  // reconnectStream reopens the stream after wait, unless it was stopped
  // (sign-out) or replaced meanwhile. Until then the page polls again.
  function reconnectStream(controller, wait) {
    if (state.stream.abort !== controller) { return; }
    setLive(false);
    state.stream.timer = setTimeout(function () {
      if (state.stream.abort === controller && state.session) { startStream(); }
    }, Math.max(wait, 250));
  }

  function stopStream() {
    if (state.stream.abort) { state.stream.abort.abort(); }
    clearTimeout(state.stream.timer);
    state.stream.abort = null;
    setLive(false);
  }

  // ---------- connecting ----------

  function connect(provider, button) {
    // Opened synchronously inside the click so popup blockers allow it;
    // pointed at Link once the token arrives.
    var popup = window.open("about:blank", POPUP_NAME, POPUP_FEATURES);
    if (!popup) {
      connectByRedirect(provider, button);
      return;
    }
    try { popup.document.title = "Opening Junction Link…"; } catch (e) { /* not ours to touch */ }
    var attempt = { provider: provider, popup: popup, done: false };
    state.attempt = attempt;
    button.disabled = true;
    showOutcome("pending", "", "Connecting " + providerName(provider) + "…", "Finish in the Junction Link window.");
    api("POST", "/v1/link/token", { provider: provider }).then(function (data) {
      popup.location.href = data.link_web_url;
      watchPopup(attempt);
    }, function (err) {
      attempt.done = true;
      popup.close();
      showOutcome("error", "", "Could not start connecting " + providerName(provider), describeApiError(err));
    }).then(function () { button.disabled = false; });
  }

  // watchPopup notices the popup closing without a result (the user shut
  // it, or the callback's message could not reach this origin) and then
  // shows what the connection list says.
  function watchPopup(attempt) {
    var timer = setInterval(function () {
      if (attempt.done) { clearInterval(timer); return; }
      if (!attempt.popup.closed) { return; }
      clearInterval(timer);
      attempt.done = true;
      // With the stream live the list is current: its connection.created
      // shows the connection (and says "connected") whenever it lands.
      var settled = state.stream.live ? Promise.resolve() : refreshConnections(isConnected(attempt.provider));
      settled.then(function () {
        if (state.attempt !== attempt) { return; }
        if (document.querySelector('[data-connection="' + CSS.escape(attempt.provider) + '"][data-status="connected"]')) {
          showLinkOutcome("connected", attempt.provider, "");
        } else {
          showLinkOutcome("cancelled", attempt.provider, "user_cancelled");
        }
      });
    }, 500);
  }

  // connectByRedirect is the fallback when popups are blocked: Link runs in
  // this tab and linkbff sends the user back here (return_to) with the
  // outcome in the query string.
  function connectByRedirect(provider, button) {
    button.disabled = true;
    showOutcome("pending", "", "Taking you to Junction Link…", "Popups are blocked, so Link opens in this tab and brings you back here.");
    var returnTo = location.origin + location.pathname;
    api("POST", "/v1/link/token", { provider: provider, return_to: returnTo }).then(function (data) {
      location.assign(data.link_web_url);
    }, function (err) {
      button.disabled = false;
      var message = err.field === "return_to"
        ? "linkbff does not allow returning to " + location.origin + ". Open the demo at linkbff's PUBLIC_URL, or allow popups."
        : describeApiError(err);
      showOutcome("error", "", "Could not start connecting " + providerName(provider), message);
    });
  }

  function onMessage(event) {
    if (event.origin !== location.origin) { return; }
    var data = event.data;
    if (!data || typeof data !== "object" || data.type !== "linkbff:link") { return; }
    if (["connected", "cancelled", "error"].indexOf(data.status) < 0) { return; }
    var provider = typeof data.provider === "string" ? data.provider : (state.attempt && state.attempt.provider);
    var connectedAlready = data.status === "connected" && !!document.querySelector('[data-connection="' + CSS.escape(provider || "") + '"][data-status="connected"]');
    if (state.attempt) { state.attempt.done = true; }
    showLinkOutcome(data.status, provider, typeof data.error_type === "string" ? data.error_type : "");
    // The stream brings the connection as soon as Junction confirms it.
    if (!state.stream.live && !connectedAlready) {
      refreshConnections(data.status === "connected" ? isConnected(provider) : null);
    }
  }

  // readReturnedOutcome shows the outcome linkbff put on return_to after a
  // full-page Link, then removes it from the address bar so a reload does
  // not show it again.
  function readReturnedOutcome() {
    var url = new URL(location.href);
    var status = url.searchParams.get("link_status");
    if (!status) { return null; }
    var outcome = { status: status, provider: url.searchParams.get("provider") || "", errorType: url.searchParams.get("error_type") || "" };
    ["link_status", "provider", "error_type"].forEach(function (key) { url.searchParams.delete(key); });
    history.replaceState(null, "", url.pathname + url.search + url.hash);
    return outcome;
  }

  function disconnect(provider, button) {
    button.disabled = true;
    api("DELETE", "/v1/connections/" + encodeURIComponent(provider)).then(function () {
      showOutcome("disconnected", "", providerName(provider) + " disconnected", "The app no longer receives data from " + providerName(provider) + ".");
      if (state.stream.live) {
        applyEvent("connection.disconnected", { provider: provider }); // the stream says so too
        return null;
      }
      return refreshConnections();
    }, function (err) {
      if (err.status === 404) { return state.stream.live ? applyEvent("connection.disconnected", { provider: provider }) : refreshConnections(); }
      button.disabled = false;
      showOutcome("error", "", "Could not disconnect " + providerName(provider), describeApiError(err));
    });
  }

  // ---------- sign-in ----------

  function showSignInError(message) {
    var box = $("signin-error");
    box.textContent = message;
    box.hidden = !message;
  }

  // afterSignIn loads the catalogue and, once the event stream is open (so
  // nothing that happens after the list was read is missed), the list.
  function afterSignIn() {
    showSignInError("");
    render();
    return Promise.all([loadProviders(), startStream().then(function () { return refreshConnections(); })]);
  }

  function signInWithDevToken(event) {
    event.preventDefault();
    var user = $("user").value.trim();
    if (!user) {
      showSignInError("Enter a user name.");
      $("user").focus();
      return;
    }
    var button = $("sign-in");
    button.disabled = true;
    api("POST", "/_dev/token", { user: user }).then(function (data) {
      saveSession({ token: data.token, user: data.user || user, expires_at: data.expires_at });
      return afterSignIn();
    }, function (err) {
      showSignInError(err.status === 404
        ? "Dev sign-in is off (linkbff is not in dev mode). Use a JWT from your identity provider instead."
        : describeApiError(err));
    }).then(function () { button.disabled = false; });
  }

  function signInWithJWT(event) {
    event.preventDefault();
    var token = $("jwt").value.trim();
    if (!token) {
      showSignInError("Paste a JWT first.");
      $("jwt").focus();
      return;
    }
    $("jwt").value = "";
    saveSession({ token: token, user: "", expires_at: "" });
    afterSignIn();
  }

  // ---------- start ----------

  function start() {
    $("signin-form").addEventListener("submit", signInWithDevToken);
    $("jwt-form").addEventListener("submit", signInWithJWT);
    $("sign-out").addEventListener("click", function () { signOut(""); $("user").focus(); });
    $("providers").addEventListener("click", function (event) {
      var button = event.target.closest("button[data-connect]");
      if (button && !button.disabled) { connect(button.getAttribute("data-connect"), button); }
    });
    $("connections").addEventListener("click", function (event) {
      var reconnect = event.target.closest("button[data-connect]");
      if (reconnect && !reconnect.disabled) { connect(reconnect.getAttribute("data-connect"), reconnect); }
      var button = event.target.closest("button[data-disconnect]");
      if (button && !button.disabled) { disconnect(button.getAttribute("data-disconnect"), button); }
    });
    window.addEventListener("message", onMessage);

    var returned = readReturnedOutcome();
    state.session = loadSession();
    render();
    if (!state.session) {
      // Back from Link without a session here (e.g. the README's curl
      // walkthrough): still say how it went.
      if (returned) {
        showLinkOutcome(returned.status, returned.provider, returned.errorType);
        $("outcome-message").textContent += " Sign in to see your connections.";
      }
      return;
    }
    // Providers first so the outcome can name the provider properly; the
    // list once the stream is open.
    Promise.all([loadProviders(), startStream()]).then(function () {
      if (returned) { showLinkOutcome(returned.status, returned.provider, returned.errorType); }
      refreshConnections(returned && returned.status === "connected" ? isConnected(returned.provider) : null);
    });
  }

  start();
})();
