// The alert queue's live updates: the server says by Server-Sent Events
// when alerts change, and the table is fetched again with its filters.
// EventSource reconnects by itself after a network error; each time the
// stream opens the table is fetched at once, for what changed while it
// was not (since the page was rendered, or while it was down).
(function () {
  var live = document.getElementById('live');
  if (!live || !window.EventSource) { return; }
  var state = document.getElementById('live-state');
  var show = function (text, cls) { if (state) { state.textContent = text; state.className = cls; } };
  // The charts are fetched at most once per chartsEvery: a burst of alerts
  // redraws them once, at its end as well as its start.
  var chartsEvery = 5000;
  var chartsLast = 0;
  var chartsTimer = null;
  var fetchCharts = function () {
    chartsTimer = null;
    chartsLast = Date.now();
    if (!window.vigilCharts || !document.querySelector('figure.chart')) { return; }
    fetch('/alerts/charts', { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.json(); })
      .then(function (list) { window.vigilCharts.update(list); })
      .catch(function () { show('charts not refreshed', 'live-off'); });
  };
  var refreshCharts = function () {
    if (chartsTimer) { return; }
    chartsTimer = setTimeout(fetchCharts, Math.max(0, chartsLast + chartsEvery - Date.now()));
  };
  var refresh = function () { htmx.trigger(live, 'refresh'); refreshCharts(); };
  var src = new EventSource('/alerts/stream');
  src.addEventListener('change', refresh);
  src.onopen = function () {
    show('live', 'live-on');
    refresh();
  };
  src.onerror = function () {
    if (src.readyState === EventSource.CLOSED) {
      // Refused (signed out, disabled): the page's reload shows why; a
      // pause keeps a failing collector from being asked in a loop.
      show('stopped', 'live-off');
      setTimeout(function () { location.reload(); }, 3000);
      return;
    }
    show('reconnecting…', 'live-off');
  };
})();
