// Inside the Link widget's iframe: tells the widget how the visit ended.
(function () {
  "use strict";
  var outcome = document.getElementById("outcome");
  if (!outcome || window.parent === window) { return; }
  var d = outcome.dataset;
  if (!d.event || !d.origin) { return; }
  var metadata = { state: d.event };
  if (d.provider) { metadata.provider = d.provider; }
  if (d.errorType) {
    metadata.error_type = d.errorType;
    metadata.error = d.error;
  }
  window.parent.postMessage({ type: __MESSAGE_TYPE__, event: d.event, metadata: metadata }, d.origin);
})();
