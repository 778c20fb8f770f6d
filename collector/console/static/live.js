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
  var refresh = function () { htmx.trigger(live, 'refresh'); };
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
