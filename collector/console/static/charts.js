// The console's charts: each figure.chart holds its data as JSON (see
// chart.go's plot), drawn here with uPlot. Days are UTC, as the server
// counts them. Each figure keeps its uPlot as figure.uplot and its data as
// figure.plot, for whoever wants to read what is drawn. vigilCharts.update
// redraws charts with new data (the live queue's), and a resized window
// resizes every chart to its box.
(function () {
  if (!window.uPlot) { return; }
  var count = function (v) { return v == null ? '' : String(Math.round(v * 100) / 100); };
  var bytes = function (v) {
    if (v == null) { return ''; }
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? String(v) : v.toFixed(1)) + ' ' + units[i];
  };
  var utc = function (ts) { return uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'); };
  var day = uPlot.fmtDate('{YYYY}-{MM}-{DD}');

  var draw = function (fig, data) {
    var box = fig.querySelector('.plot');
    var label = data.unit === 'bytes' ? bytes : count;
    var raw = data.series.map(function (s) { return s.values; });
    var ys = raw;
    var order = data.series.map(function (s, i) { return i; });
    if (data.stacked) {
      // A stack is drawn as bars of running totals, tallest first, so
      // each series shows as its own band above those below it.
      var run = data.days.map(function () { return 0; });
      ys = raw.map(function (vals) {
        run = run.map(function (r, d) { return r + vals[d]; });
        return run;
      });
      order.reverse();
    }
    var bars = uPlot.paths.bars({ size: [0.8, 24] });
    var opts = {
      width: Math.max(box.clientWidth, 300),
      height: 170,
      tzDate: utc,
      scales: {
        // Half a day either side, so the first and last days' bars show whole.
        x: { time: true, range: function (u, min, max) { return [min - 43200, max + 43200]; } },
        y: { range: function (u, min, max) { return [0, Math.max(max, 1)]; } }
      },
      axes: [{}, { size: 80, values: function (u, splits) { return splits.map(label); } }],
      legend: { live: true },
      series: [{ label: 'day', value: function (u, ts) { return ts == null ? '' : day(utc(ts)); } }].concat(order.map(function (i) {
        var s = data.series[i];
        var serie = {
          label: s.label,
          stroke: s.color,
          width: data.stacked ? 0 : 2,
          dash: s.dash ? [6, 4] : undefined,
          points: { show: false },
          value: function (u, v, si, di) { return di == null ? '' : label(raw[i][di]); }
        };
        if (data.stacked) {
          serie.fill = s.color;
          serie.paths = bars;
        }
        return serie;
      }))
    };
    if (fig.uplot) { fig.uplot.destroy(); }
    fig.plot = data;
    fig.uplot = new uPlot(opts, [data.days].concat(order.map(function (i) { return ys[i]; })), box);
    fig.classList.add('drawn');
  };
  var drawSafely = function (fig, data) {
    var old = fig.querySelector('p.error');
    if (old) { old.remove(); }
    try {
      draw(fig, data);
    } catch (e) {
      var p = document.createElement('p');
      p.className = 'error';
      p.textContent = 'drawing this chart failed: ' + e.message;
      fig.appendChild(p);
    }
  };
  document.querySelectorAll('figure.chart').forEach(function (fig) {
    var data;
    try {
      data = JSON.parse(fig.querySelector('script.chart-data').textContent);
    } catch (e) {
      data = null;
    }
    drawSafely(fig, data);
  });
  window.vigilCharts = {
    // update redraws each chart named in list ([{id, plot}]) whose data changed.
    update: function (list) {
      list.forEach(function (c) {
        var fig = document.getElementById('chart-' + c.id);
        if (fig && JSON.stringify(fig.plot) !== JSON.stringify(c.plot)) { drawSafely(fig, c.plot); }
      });
    }
  };
  // Resizing redraws at most once per animation frame.
  var pending = false;
  window.addEventListener('resize', function () {
    if (pending) { return; }
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      document.querySelectorAll('figure.chart').forEach(function (fig) {
        var box = fig.querySelector('.plot');
        if (fig.uplot) { fig.uplot.setSize({ width: Math.max(box.clientWidth, 300), height: 170 }); }
      });
    });
  });
})();
