// gbrec A/B dashboard: plain JS, inline SVG charts, no third-party code, works offline.
// Data comes from the GraphQL API (ARCHITECTURE §6); the optional Experiment.history
// field ([ExperimentResults!]! snapshots, oldest first) feeds the cumulative-difference chart, which hides itself when absent.
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const KEY_STORAGE = "gbrec.dashboard.apiKey";
  const CONTROL_COLOR = "#6b7280";
  // Okabe-Ito: distinguishable with the common colour-vision deficiencies.
  const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"];
  const FINISHED = new Set(["STOPPED", "CONCLUDED", "ROLLED_BACK"]);

  const EXPERIMENTS_QUERY = `query DashboardExperiments {
    experiments {
      id status strategy coverage seed
      variants { name weight model }
      results {
        srmPValue srmOk decision
        variants { name users exposures }
        metrics { metric variant mean diff lift ciLow ciHigh pValue significant }
      }
      winner
      timeline { event decision at }
    }
  }`;
  const HISTORY_QUERY = `query DashboardHistory($id: String!) {
    experiment(id: $id) {
      id
      history { computedAt metrics { metric variant diff ciLow ciHigh } }
    }
  }`;
  const ADVANCE_MUTATION = `mutation Advance($id: String!) { advanceExperiment(id: $id) { id status } }`;
  const STOP_MUTATION = `mutation Stop($id: String!) { stopExperiment(id: $id) { id status } }`;

  const state = {
    endpoint: document.body.dataset.graphqlEndpoint || "/graphql",
    refreshSeconds: Number(document.body.dataset.refreshSeconds || 15),
    experiments: [],
    selectedId: null,
    filter: "all",
    historySupported: true,
    historyMetric: {},
    busy: false,
  };

  // ---------- tiny DOM helpers ----------
  function h(tag, attrs, children) {
    const el = document.createElement(tag);
    applyAttrs(el, attrs);
    appendChildren(el, children);
    return el;
  }

  function s(tag, attrs, children) {
    const el = document.createElementNS(SVG_NS, tag);
    applyAttrs(el, attrs);
    appendChildren(el, children);
    return el;
  }

  function applyAttrs(el, attrs) {
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") el.textContent = String(value);
      else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else el.setAttribute(name, value === true ? "" : String(value));
    }
  }

  function appendChildren(el, children) {
    for (const child of [].concat(children || [])) {
      if (child === null || child === undefined || child === false) continue;
      el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }

  const $ = (id) => document.getElementById(id);

  // ---------- formatting ----------
  function num(x) {
    if (x === null || x === undefined || Number.isNaN(x)) return "—";
    const a = Math.abs(x);
    if (a === 0) return "0";
    if (a >= 1000) return Math.round(x).toLocaleString("en-US");
    if (a >= 1) return x.toFixed(a >= 100 ? 0 : 2);
    return x.toPrecision(3);
  }
  // Axis ticks are round numbers already: print them without trailing zeros.
  const tickNum = (x) => (Math.abs(x) >= 1000 ? num(x) : String(parseFloat(x.toPrecision(3))));
  const signed = (x) => (x === null || x === undefined ? "—" : (x > 0 ? "+" : "") + num(x));
  const pct = (x, digits = 1) =>
    x === null || x === undefined || Number.isNaN(x) ? "—" : (x * 100).toFixed(digits) + "%";
  const signedPct = (x) => (x === null || x === undefined ? "—" : (x > 0 ? "+" : "") + pct(x));
  function pValue(p) {
    if (p === null || p === undefined) return "—";
    return p < 0.001 ? "< 0.001" : p.toFixed(3);
  }
  const count = (n) => (n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US"));
  const statusLabel = (status) => status.replace("_", " ").toLowerCase();

  function variantColor(experiment, name) {
    const index = experiment.variants.findIndex((v) => v.name === name);
    if (index <= 0) return CONTROL_COLOR;
    return PALETTE[(index - 1) % PALETTE.length];
  }

  // ---------- API ----------
  class ApiError extends Error {
    constructor(message, code) {
      super(message);
      this.code = code || null;
    }
  }

  function apiKey() {
    return sessionStorage.getItem(KEY_STORAGE) || "";
  }

  async function gql(query, variables) {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    const key = apiKey();
    if (key) headers["X-API-Key"] = key;
    let response;
    try {
      response = await fetch(state.endpoint, {
        method: "POST",
        headers,
        body: JSON.stringify({ query, variables: variables || {} }),
      });
    } catch (err) {
      throw new ApiError(`The API at ${state.endpoint} is unreachable (${err.message}).`, "NETWORK");
    }
    let payload = null;
    try {
      payload = await response.json();
    } catch (err) {
      throw new ApiError(`The API answered HTTP ${response.status} without JSON.`, "HTTP");
    }
    if (payload.errors && payload.errors.length) {
      const first = payload.errors[0];
      const code = (first.extensions && first.extensions.code) || null;
      throw new ApiError(first.message || "GraphQL error", code);
    }
    if (!response.ok) throw new ApiError(`The API answered HTTP ${response.status}.`, "HTTP");
    return payload.data;
  }

  // ---------- banner ----------
  function showBanner(message, kind) {
    const banner = $("banner");
    banner.textContent = message;
    banner.className = "banner" + (kind === "info" ? " info" : "");
    banner.setAttribute("role", kind === "info" ? "status" : "alert");
    banner.hidden = false;
  }
  const hideBanner = () => ($("banner").hidden = true);

  // ---------- experiment list ----------
  function visibleExperiments() {
    if (state.filter === "running") return state.experiments.filter((e) => e.status === "RUNNING");
    if (state.filter === "finished") return state.experiments.filter((e) => FINISHED.has(e.status));
    return state.experiments;
  }

  function renderList() {
    const shown = visibleExperiments();
    const running = shown.filter((e) => !FINISHED.has(e.status));
    const finished = shown.filter((e) => FINISHED.has(e.status));
    fillList($("running-list"), running, "No running experiments");
    fillList($("finished-list"), finished, "No finished experiments");
    $("running-count").textContent = String(running.length);
    $("finished-count").textContent = String(finished.length);
  }

  function fillList(list, experiments, emptyText) {
    list.replaceChildren();
    if (!experiments.length) {
      list.appendChild(h("li", { class: "empty-item", text: emptyText }));
      return;
    }
    for (const exp of experiments) {
      const current = exp.id === state.selectedId;
      const users = (exp.results.variants || []).reduce((acc, v) => acc + v.users, 0);
      const button = h(
        "button",
        {
          type: "button",
          class: "exp-item",
          "aria-current": current ? "true" : "false",
          "data-experiment-id": exp.id,
          onclick: () => select(exp.id, true),
        },
        [
          h("span", { class: "row" }, [
            h("span", { class: "name", text: exp.id }),
            h("span", { class: `pill ${exp.status.toLowerCase()}`, text: statusLabel(exp.status) }),
          ]),
          h("span", {
            class: "meta",
            text: `${exp.strategy.toLowerCase()} · ${exp.variants.length} variants · ${count(users)} users`,
          }),
          exp.winner ? h("span", { class: "meta winner", text: `winner: ${exp.winner}` }) : null,
        ],
      );
      list.appendChild(h("li", {}, [button]));
    }
  }

  function select(id, focus) {
    state.selectedId = id;
    history.replaceState(null, "", `#exp=${encodeURIComponent(id)}`);
    renderList();
    renderDetail();
    if (focus) $("detail").focus({ preventScroll: true });
  }

  // ---------- detail ----------
  function renderDetail() {
    const detail = $("detail");
    const exp = state.experiments.find((e) => e.id === state.selectedId);
    if (!exp) {
      detail.replaceChildren(emptyState());
      return;
    }
    const historyCard = h("section", { class: "card", id: "history-card", "aria-labelledby": "history-title" });
    detail.replaceChildren(
      summaryCard(exp),
      h("div", { class: "grid-2" }, [trafficCard(exp), forestCard(exp)]),
      historyCard,
      metricsTableCard(exp),
    );
    loadHistory(exp, historyCard);
  }

  function emptyState() {
    if (!state.experiments.length) {
      return h("div", { class: "card empty" }, [
        h("p", { text: "No experiments yet." }),
        h("p", { class: "note" }, [
          "Create one with the ",
          h("code", { text: "createExperiment" }),
          " mutation; it appears here as soon as it exists.",
        ]),
      ]);
    }
    return h("div", { class: "card empty", text: "Select an experiment." });
  }

  function summaryCard(exp) {
    const r = exp.results;
    const totalUsers = r.variants.reduce((acc, v) => acc + v.users, 0);
    const facts = [
      ["Strategy", exp.strategy.toLowerCase()],
      ["Coverage", pct(exp.coverage, 0)],
      ["Seed", exp.seed],
      ["Users", count(totalUsers)],
      ["Exposures", count(r.variants.reduce((acc, v) => acc + v.exposures, 0))],
      ["Variants", exp.variants.map((v) => v.name).join(", ")],
    ];
    return h("section", { class: "card", "aria-labelledby": "summary-title" }, [
      h("div", { class: "summary-head" }, [
        h("h2", { id: "summary-title", text: exp.id }),
        h("span", { class: `pill ${exp.status.toLowerCase()}`, text: statusLabel(exp.status) }),
        srmBadge(r),
        adminActions(exp),
      ]),
      h(
        "dl",
        { class: "facts" },
        facts.map(([k, v]) => h("div", {}, [h("dt", { text: k }), h("dd", { text: v })])),
      ),
      h("p", { class: "decision", id: "decision" }, [
        h("strong", { text: "Decision: " }),
        r.decision || "none yet: keep collecting data",
        exp.winner ? " · " : null,
        exp.winner ? h("strong", { class: "winner", text: `Winner: ${exp.winner}` }) : null,
      ]),
      timeline(exp.timeline || []),
    ]);
  }

  // The delivery loop's decisions (stage advances, SRM pause, promotion, rollback, stop).
  function timeline(decisions) {
    if (!decisions.length) return null;
    return h("ol", { class: "timeline", id: "timeline", "aria-label": "Delivery decisions" },
      decisions.map((d) => h("li", {}, [
        h("time", { datetime: d.at, text: new Date(d.at).toLocaleString() }),
        " ",
        h("strong", { text: d.event }),
        `: ${d.decision}`,
      ])),
    );
  }

  function srmBadge(results) {
    if (results.srmPValue === null || results.srmPValue === undefined) {
      return h("span", { class: "badge unknown srm-badge", title: "Sample ratio mismatch test", text: "SRM: not enough data" });
    }
    const ok = results.srmOk;
    return h("span", {
      class: `badge ${ok ? "ok" : "bad"} srm-badge`,
      title: "Chi-square test of observed users per variant against the configured weights",
      text: `${ok ? "No SRM" : "SRM detected"} · p = ${pValue(results.srmPValue)}`,
    });
  }

  function adminActions(exp) {
    if (!apiKey() || exp.status !== "RUNNING") return null;
    const buttons = [];
    if (exp.strategy === "STAGED") {
      buttons.push(h("button", {
        type: "button", class: "button", id: "advance-button", text: "Advance stage",
        onclick: (ev) => mutate(ev.currentTarget, ADVANCE_MUTATION, exp.id, "advanced"),
      }));
    }
    buttons.push(h("button", {
      type: "button", class: "button danger", id: "stop-button", text: "Stop experiment",
      onclick: (ev) => {
        if (window.confirm(`Stop experiment ${exp.id}? Users go back to the default model.`)) {
          mutate(ev.currentTarget, STOP_MUTATION, exp.id, "stopped");
        }
      },
    }));
    return h("div", { class: "actions" }, buttons);
  }

  async function mutate(button, mutation, id, verb) {
    button.disabled = true;
    try {
      const data = await gql(mutation, { id });
      const result = data.advanceExperiment || data.stopExperiment;
      showBanner(`Experiment ${id} ${verb}: now ${statusLabel(result.status)}.`, "info");
      await load();
    } catch (err) {
      const hint = err.code === "UNAUTHENTICATED" || err.code === "FORBIDDEN" ? " (an admin key is required)" : "";
      showBanner(`Could not update ${id}: ${err.message}${hint}`);
    } finally {
      button.disabled = false;
    }
  }

  // ---------- traffic: expected vs actual ----------
  function trafficRows(exp) {
    const stats = new Map(exp.results.variants.map((v) => [v.name, v]));
    const totalWeight = exp.variants.reduce((acc, v) => acc + v.weight, 0) || 1;
    const totalUsers = exp.results.variants.reduce((acc, v) => acc + v.users, 0);
    return exp.variants.map((v) => {
      const st = stats.get(v.name) || { users: 0, exposures: 0 };
      return {
        name: v.name,
        model: v.model,
        color: variantColor(exp, v.name),
        expectedShare: v.weight / totalWeight,
        trafficShare: v.weight * exp.coverage,
        actualShare: totalUsers ? st.users / totalUsers : null,
        expectedUsers: totalUsers * (v.weight / totalWeight),
        users: st.users,
        exposures: st.exposures,
      };
    });
  }

  function trafficCard(exp) {
    const rows = trafficRows(exp);
    return h("section", { class: "card", "aria-labelledby": "traffic-title" }, [
      h("div", { class: "card-head" }, [
        h("div", {}, [
          h("h3", { id: "traffic-title", text: "Traffic per variant" }),
          h("p", { text: "Expected share (weight × coverage) vs users actually assigned" }),
        ]),
        srmBadge(exp.results),
      ]),
      trafficChart(rows),
      h("div", { class: "legend", "aria-hidden": "true" }, [
        h("span", {}, [h("span", { class: "swatch", "data-color": PALETTE[0] }), "actual share of users (variant colour)"]),
        h("span", {}, [h("span", { class: "swatch expected-swatch" }), "expected share"]),
      ]),
      h("div", { class: "table-wrap" }, [trafficTable(rows)]),
    ]);
  }

  function trafficChart(rows) {
    const width = 760, rowH = 30, left = 120, right = 70, top = 6;
    const height = top + rows.length * rowH + 22;
    const maxShare = Math.max(0.01, ...rows.map((r) => Math.max(r.expectedShare, r.actualShare || 0)));
    const scaleMax = Math.min(1, niceCeil(maxShare * 1.1));
    const x = (v) => left + (v / scaleMax) * (width - left - right);
    const svg = chartSvg(width, height, "Actual versus expected share of users per variant: " +
      rows.map((r) => `${r.name} ${pct(r.actualShare)} actual, ${pct(r.expectedShare)} expected`).join("; "));
    svg.classList.add("traffic-chart");
    for (const t of ticks(0, scaleMax, 4)) {
      svg.appendChild(s("line", { class: "gridline", x1: x(t), x2: x(t), y1: top, y2: height - 20 }));
      svg.appendChild(s("text", { x: x(t), y: height - 6, "text-anchor": "middle", text: pct(t, 0) }));
    }
    rows.forEach((r, i) => {
      const y = top + i * rowH;
      svg.appendChild(s("text", { class: "label", x: left - 8, y: y + rowH / 2 + 4, "text-anchor": "end", text: r.name }));
      if (r.actualShare !== null) {
        svg.appendChild(s("rect", {
          class: "bar-actual", x: left, y: y + 6, height: rowH - 12, rx: 3,
          width: Math.max(0, x(r.actualShare) - left), fill: r.color,
        }));
      }
      svg.appendChild(s("rect", {
        class: "bar-expected", x: left, y: y + 3, height: rowH - 6, rx: 3,
        width: Math.max(0, x(r.expectedShare) - left),
      }));
      svg.appendChild(s("text", { x: width - right + 6, y: y + rowH / 2 + 4, text: pct(r.actualShare) }));
    });
    return svg;
  }

  function trafficTable(rows) {
    return h("table", { class: "traffic-table" }, [
      h("caption", { class: "visually-hidden", text: "Traffic per variant" }),
      h("thead", {}, [h("tr", {}, ["Variant", "Model", "Of all traffic", "Expected", "Actual", "Users", "Exposures"]
        .map((t, i) => h("th", { scope: "col", class: i < 2 ? "text" : null, text: t })))]),
      h("tbody", {}, rows.map((r) => h("tr", {}, [
        h("td", {}, [h("span", { class: "swatch", "data-color": r.color }), r.name]),
        h("td", { class: "text", text: r.model }),
        h("td", { text: pct(r.trafficShare) }),
        h("td", { text: pct(r.expectedShare) }),
        h("td", { text: pct(r.actualShare) }),
        h("td", { text: count(r.users) }),
        h("td", { text: count(r.exposures) }),
      ]))),
    ]);
  }

  // ---------- forest plot ----------
  function forestCard(exp) {
    const byMetric = groupBy(exp.results.metrics, (m) => m.metric);
    const blocks = [];
    for (const [metric, results] of byMetric) {
      const control = results.find((m) => m.diff === null || m.diff === undefined);
      const rows = results.filter((m) => m.diff !== null && m.diff !== undefined);
      if (!rows.length) continue;
      blocks.push(h("div", { class: "metric-block" }, [
        h("div", { class: "metric-title" }, [
          h("h4", { text: metric }),
          h("span", { class: "muted", text: control ? `control mean ${num(control.mean)}` : "" }),
        ]),
        forestChart(exp, metric, rows),
      ]));
    }
    return h("section", { class: "card", "aria-labelledby": "forest-title" }, [
      h("div", { class: "card-head" }, [h("div", {}, [
        h("h3", { id: "forest-title", text: "Effect per metric" }),
        h("p", { text: "Difference from control with its interval; dashed line = no effect" }),
      ])]),
      blocks.length ? h("div", { class: "forest" }, blocks)
        : h("p", { class: "note", text: "No metric results yet: events arrive as users interact." }),
    ]);
  }

  function forestChart(exp, metric, rows) {
    const width = 760, rowH = 30, left = 120, right = 170, top = 4, axisH = 20;
    const height = top + rows.length * rowH + axisH;
    const values = rows.flatMap((r) => [r.diff, r.ciLow, r.ciHigh]).filter((v) => v !== null && v !== undefined);
    const [lo, hi] = paddedDomain(Math.min(0, ...values), Math.max(0, ...values));
    const x = (v) => left + ((v - lo) / (hi - lo)) * (width - left - right);
    const label = `${metric}: ` + rows.map((r) =>
      `${r.variant} difference ${signed(r.diff)}, interval ${num(r.ciLow)} to ${num(r.ciHigh)}`).join("; ");
    const svg = chartSvg(width, height, label);
    svg.classList.add("forest-plot");
    for (const t of ticks(lo, hi, 4)) {
      svg.appendChild(s("line", { class: "gridline", x1: x(t), x2: x(t), y1: top, y2: height - axisH }));
      svg.appendChild(s("text", { x: x(t), y: height - 5, "text-anchor": "middle", text: tickNum(t) }));
    }
    svg.appendChild(s("line", { class: "zero", x1: x(0), x2: x(0), y1: top, y2: height - axisH }));
    rows.forEach((r, i) => {
      const y = top + i * rowH + rowH / 2;
      const color = variantColor(exp, r.variant);
      svg.appendChild(s("text", { class: "label", x: left - 8, y: y + 4, "text-anchor": "end", text: r.variant }));
      if (r.ciLow !== null && r.ciHigh !== null && r.ciLow !== undefined && r.ciHigh !== undefined) {
        svg.appendChild(s("line", { class: "forest-ci", x1: x(r.ciLow), x2: x(r.ciHigh), y1: y, y2: y, stroke: color }));
      }
      svg.appendChild(s("circle", { class: "forest-point", cx: x(r.diff), cy: y, r: r.significant ? 6 : 5, fill: color },
        [s("title", { text: `${r.variant}: ${signed(r.diff)} (${signedPct(r.lift)}), p ${pValue(r.pValue)}` })]));
      const summary = `${signed(r.diff)}  ${signedPct(r.lift)}${r.significant ? "  ✓" : ""}`;
      svg.appendChild(s("text", {
        class: r.significant ? "label" : null, x: width - right + 10, y: y + 4, text: summary,
      }));
    });
    return svg;
  }

  // ---------- metrics table ----------
  function metricsTableCard(exp) {
    const metrics = exp.results.metrics;
    return h("section", { class: "card", "aria-labelledby": "metrics-title" }, [
      h("div", { class: "card-head" }, [h("h3", { id: "metrics-title", text: "All metric results" })]),
      metrics.length ? h("div", { class: "table-wrap" }, [h("table", { class: "metrics-table" }, [
        h("thead", {}, [h("tr", {}, ["Metric", "Variant", "Mean", "Diff", "Lift", "Interval", "p-value", "Significant"]
          .map((t, i) => h("th", { scope: "col", class: i < 2 ? "text" : null, text: t })))]),
        h("tbody", {}, metrics.map((m) => h("tr", {}, [
          h("td", { class: "text", text: m.metric }),
          h("td", { class: "text" }, [h("span", { class: "swatch", "data-color": variantColor(exp, m.variant) }), m.variant]),
          h("td", { text: num(m.mean) }),
          h("td", { text: signed(m.diff) }),
          h("td", { text: signedPct(m.lift) }),
          h("td", { text: m.ciLow === null || m.ciLow === undefined ? "—" : `[${num(m.ciLow)}, ${num(m.ciHigh)}]` }),
          h("td", { text: pValue(m.pValue) }),
          h("td", { class: m.significant ? (m.diff < 0 ? "neg" : "sig") : null, text: m.significant ? "yes" : "no" }),
        ]))),
      ])]) : h("p", { class: "note", text: "No metric results yet." }),
    ]);
  }

  // ---------- cumulative difference over time ----------
  async function loadHistory(exp, card) {
    if (!state.historySupported) {
      card.hidden = true;
      return;
    }
    let points;
    try {
      const data = await gql(HISTORY_QUERY, { id: exp.id });
      points = flattenHistory((data.experiment && data.experiment.history) || []);
    } catch (err) {
      // An API without the history field rejects the query at validation: hide the chart.
      if (err.code === "GRAPHQL_VALIDATION_FAILED" || /history/i.test(err.message)) {
        state.historySupported = false;
        card.hidden = true;
        return;
      }
      card.replaceChildren(h("p", { class: "note", text: `History unavailable: ${err.message}` }));
      return;
    }
    if (exp.id !== state.selectedId || !card.isConnected) return;
    renderHistory(exp, card, points);
  }

  // history is a list of ExperimentResults snapshots; the chart wants one point per
  // (time, metric, variant).
  function flattenHistory(snapshots) {
    return snapshots.flatMap((snap) =>
      (snap.metrics || []).map((m) => ({ at: snap.computedAt, metric: m.metric, variant: m.variant,
        diff: m.diff, ciLow: m.ciLow, ciHigh: m.ciHigh })));
  }

  function renderHistory(exp, card, points) {
    const byMetric = groupBy(points.filter((p) => p.diff !== null && p.diff !== undefined), (p) => p.metric);
    const head = h("div", { class: "card-head" }, [h("div", {}, [
      h("h3", { id: "history-title", text: "Cumulative difference over time" }),
      h("p", { text: "Variant minus control as data accrued, with its sequential interval band" }),
    ])]);
    if (!byMetric.size) {
      card.replaceChildren(head, h("p", { class: "note", text: "No result snapshots recorded yet." }));
      return;
    }
    const metrics = [...byMetric.keys()];
    let metric = state.historyMetric[exp.id];
    if (!byMetric.has(metric)) metric = metrics[0];
    const picker = h("label", { class: "field" }, [h("span", { text: "Metric" }),
      h("select", {
        id: "history-metric",
        onchange: (ev) => { state.historyMetric[exp.id] = ev.target.value; renderHistory(exp, card, points); },
      }, metrics.map((m) => h("option", { value: m, selected: m === metric, text: m })))]);
    head.appendChild(picker);
    const series = groupBy(byMetric.get(metric), (p) => p.variant);
    card.replaceChildren(head, historyChart(exp, metric, series), legend(exp, [...series.keys()]));
  }

  function historyChart(exp, metric, series) {
    const width = 900, height = 260, left = 60, right = 44, top = 10, bottom = 28;
    const all = [...series.values()].flat();
    const times = all.map((p) => Date.parse(p.at));
    const t0 = Math.min(...times), t1 = Math.max(...times) === t0 ? t0 + 1 : Math.max(...times);
    const ys = all.flatMap((p) => [p.diff, p.ciLow, p.ciHigh]).filter((v) => v !== null && v !== undefined && isFinite(v));
    const [lo, hi] = paddedDomain(Math.min(0, ...ys), Math.max(0, ...ys));
    const x = (t) => left + ((t - t0) / (t1 - t0)) * (width - left - right);
    const y = (v) => top + (1 - (v - lo) / (hi - lo)) * (height - top - bottom);
    const svg = chartSvg(width, height, `Cumulative difference of ${metric} over time for ${[...series.keys()].join(", ")}`);
    svg.classList.add("history-chart");
    for (const t of ticks(lo, hi, 5)) {
      svg.appendChild(s("line", { class: "gridline", x1: left, x2: width - right, y1: y(t), y2: y(t) }));
      svg.appendChild(s("text", { x: left - 6, y: y(t) + 4, "text-anchor": "end", text: tickNum(t) }));
    }
    for (const t of timeTicks(t0, t1, 5)) {
      svg.appendChild(s("text", { x: x(t), y: height - 8, "text-anchor": "middle", text: timeLabel(t, t1 - t0) }));
    }
    svg.appendChild(s("line", { class: "zero", x1: left, x2: width - right, y1: y(0), y2: y(0) }));
    for (const [variant, pts] of series) {
      const sorted = [...pts].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
      const color = variantColor(exp, variant);
      const banded = sorted.filter((p) => p.ciLow !== null && p.ciHigh !== null && isFinite(p.ciLow) && isFinite(p.ciHigh));
      if (banded.length > 1) {
        const upper = banded.map((p) => `${x(Date.parse(p.at))},${y(p.ciHigh)}`);
        const lower = banded.slice().reverse().map((p) => `${x(Date.parse(p.at))},${y(p.ciLow)}`);
        svg.appendChild(s("path", { class: "band", fill: color, d: `M${upper.join("L")}L${lower.join("L")}Z` }));
      }
      const line = sorted.map((p) => `${x(Date.parse(p.at))},${y(p.diff)}`);
      svg.appendChild(s("path", { class: "line", stroke: color, d: `M${line.join("L")}` }));
    }
    return svg;
  }

  function legend(exp, names) {
    return h("div", { class: "legend" }, names.map((n) =>
      h("span", {}, [h("span", { class: "swatch", "data-color": variantColor(exp, n) }), `${n} − control`])));
  }

  // ---------- chart helpers ----------
  function chartSvg(width, height, label) {
    return s("svg", {
      class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label,
      preserveAspectRatio: "xMidYMid meet",
    });
  }

  function niceStep(span, count) {
    const raw = span / Math.max(1, count);
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const unit = raw / power;
    return (unit >= 5 ? 10 : unit >= 2 ? 5 : unit >= 1 ? 2 : 1) * power;
  }

  function ticks(lo, hi, count) {
    if (!(hi > lo)) return [lo];
    const step = niceStep(hi - lo, count);
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
      out.push(Math.abs(t) < step * 1e-9 ? 0 : Number(t.toPrecision(12)));
    }
    return out;
  }

  function niceCeil(v) {
    const step = niceStep(v, 4);
    return Math.ceil(v / step) * step;
  }

  function paddedDomain(lo, hi) {
    if (!(hi > lo)) return [lo - 1, hi + 1];
    const pad = (hi - lo) * 0.08;
    return [lo - pad, hi + pad];
  }

  function timeTicks(t0, t1, count) {
    const out = [];
    for (let i = 0; i <= count; i++) out.push(t0 + ((t1 - t0) * i) / count);
    return out;
  }

  function timeLabel(t, span) {
    const d = new Date(t);
    const day = d.toLocaleDateString("en-GB", { day: "numeric", month: "short" });
    if (span > 10 * 86400e3) return day;
    // Snapshots a minute apart would otherwise share one "hh:mm" label.
    const precise = span < 30 * 60e3 ? { second: "2-digit" } : {};
    const time = d.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", ...precise });
    return span > 86400e3 ? `${day} ${time}` : time;
  }

  function groupBy(items, key) {
    const map = new Map();
    for (const item of items) {
      const k = key(item);
      if (!map.has(k)) map.set(k, []);
      map.get(k).push(item);
    }
    return map;
  }

  // CSP forbids inline style attributes, so swatch colours are set through the CSSOM.
  function paintSwatches(root) {
    for (const el of root.querySelectorAll(".swatch[data-color]")) el.style.background = el.dataset.color;
  }

  // ---------- loading and controls ----------
  async function load() {
    if (state.busy) return;
    state.busy = true;
    $("refresh").disabled = true;
    try {
      const data = await gql(EXPERIMENTS_QUERY);
      state.experiments = data.experiments || [];
      const visible = visibleExperiments();
      if (!visible.some((e) => e.id === state.selectedId)) {
        const preferred = visible.find((e) => e.status === "RUNNING") || visible[0];
        state.selectedId = preferred ? preferred.id : null;
      }
      if (!$("banner").classList.contains("info")) hideBanner();
      renderList();
      renderDetail();
      $("updated").textContent = `Updated ${new Date().toLocaleTimeString("en-GB")}`;
    } catch (err) {
      showBanner(`Could not load experiments: ${err.message}`);
      if (!state.experiments.length) $("detail").replaceChildren(h("p", { class: "empty", text: "No data." }));
    } finally {
      state.busy = false;
      $("refresh").disabled = false;
      document.body.dataset.loaded = "true";
    }
  }

  function syncKeyControls() {
    const hasKey = Boolean(apiKey());
    $("key-clear").hidden = !hasKey;
    $("api-key").value = "";
    $("api-key").placeholder = hasKey ? "Admin key in use (this tab only)" : "X-API-Key for advance / stop";
  }

  function bindControls() {
    $("refresh").addEventListener("click", () => load());
    $("status-filter").addEventListener("change", (ev) => {
      state.filter = ev.target.value;
      load();
    });
    $("key-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const key = $("api-key").value.trim();
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      syncKeyControls();
      renderDetail();
    });
    $("key-clear").addEventListener("click", () => {
      sessionStorage.removeItem(KEY_STORAGE);
      syncKeyControls();
      renderDetail();
    });
    setInterval(() => {
      if ($("auto-refresh").checked && !document.hidden) load();
    }, Math.max(5, state.refreshSeconds) * 1000);
  }

  function start() {
    const match = /exp=([^&]+)/.exec(location.hash);
    if (match) state.selectedId = decodeURIComponent(match[1]);
    new MutationObserver(() => paintSwatches(document.body)).observe(document.body, { childList: true, subtree: true });
    bindControls();
    syncKeyControls();
    load();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
