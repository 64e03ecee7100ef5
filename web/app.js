/*
 * switchover dashboard: polls GET /stats?history=N once a second and
 * draws both backends side by side; actions call the same admin API as
 * switchoverctl, each after a confirmation.  No library, no external URL:
 * the charts are SVG built here.  The admin token, when the proxy wants
 * one, lives in this tab's sessionStorage only and goes out as
 * Authorization: Bearer.
 */
"use strict";

const POLL_MS = 1000;
const RETRY_MS = 2000;
const SPAN_S = 300;		/* what the charts show, and /stats keeps */
const FETCH_TIMEOUT_MS = 4000;
const TOKEN_KEY = "switchover.token";
const CLASSES = ["2xx", "3xx", "1xx", "4xx", "429", "5xx", "err"];
const SVGNS = "http://www.w3.org/2000/svg";

const S = {
	stats: null,		/* the last /stats */
	hist: null,		/* merged history: {t:[], dt:[], ..., backends:{}} */
	changes: [],		/* weight changes [{t, weights}] */
	uptime: 0,
	lastOk: 0,		/* Date.now() of the last good poll */
	down: false,
	tokenWanted: false,
	rampSeen: false,
	rampNext: 0,		/* when to ask /ramp again */
	drainMax: {},		/* backend -> most clients bound since draining */
};

const $ = (id) => document.getElementById(id);

/* ---- talking to the admin API ------------------------------------------- */

function token() {
	return sessionStorage.getItem(TOKEN_KEY);
}

class ApiError extends Error {
	constructor(status, msg) {
		super(msg);
		this.status = status;
	}
}

/* fetch path with the token and a deadline; the JSON answer, or throws. */
async function api(method, path, body) {
	const headers = {};
	const t = token();
	if (t) headers["Authorization"] = "Bearer " + t;
	if (body !== undefined) headers["Content-Type"] = "application/json";
	const ctl = new AbortController();
	const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
	let r;
	try {
		r = await fetch(path, {
			method, headers, signal: ctl.signal, cache: "no-store",
			credentials: "omit",
			body: body === undefined ? undefined : JSON.stringify(body),
		});
	} finally {
		clearTimeout(timer);
	}
	let doc = null;
	try {
		doc = await r.json();
	} catch (e) {
		doc = null;
	}
	if (!r.ok) {
		const reason = doc && doc.error && doc.error.reason ?
		    doc.error.reason : r.status + " " + r.statusText;
		if (r.status === 401) askToken(true);
		throw new ApiError(r.status, reason);
	}
	return doc;
}

/* ---- the token -------------------------------------------------------- */

function askToken(refused) {
	const d = $("token");
	if (d.open) return;
	S.tokenWanted = true;
	$("token-text").textContent = (refused && token() ?
	    "The proxy refused that token. " : "This proxy's admin API needs its token. ") +
	    "It is kept in this tab only (session storage) and sent as " +
	    "Authorization: Bearer.";
	$("token-input").value = "";
	d.showModal();
}

function tokenSubmit(ev) {
	ev.preventDefault();
	const v = $("token-input").value.trim();
	if (!v) return;
	sessionStorage.setItem(TOKEN_KEY, v);
	S.tokenWanted = false;
	$("token").close();
	poll();
}

/* ---- polling ----------------------------------------------------------- */

/* Merge a /stats history into S.hist: only records newer than we have. */
function mergeHistory(h) {
	if (!S.hist) {
		S.hist = { t: [], dt: [], accepted: [], drain_pending: [], backends: {} };
	}
	const H = S.hist;
	const last = H.t.length ? H.t[H.t.length - 1] : -Infinity;
	for (let i = 0; i < h.t.length; i++) {
		if (h.t[i] <= last) continue;
		H.t.push(h.t[i]);
		H.dt.push(h.dt[i]);
		H.accepted.push(h.accepted[i]);
		H.drain_pending.push(h.drain_pending[i]);
		for (const [name, b] of Object.entries(h.backends)) {
			if (!H.backends[name]) {
				H.backends[name] = {};
				for (const k of Object.keys(b))
					H.backends[name][k] = new Array(H.t.length - 1).fill(0);
			}
			for (const k of Object.keys(b)) {
				if (!H.backends[name][k])
					H.backends[name][k] = new Array(H.t.length - 1).fill(0);
				H.backends[name][k].push(b[k][i]);
			}
		}
	}
	/* Keep SPAN_S seconds. */
	const cut = H.t.length ? H.t[H.t.length - 1] - SPAN_S * 1000 : 0;
	let drop = 0;
	while (drop < H.t.length && H.t[drop] < cut) drop++;
	if (drop > 0) {
		for (const k of ["t", "dt", "accepted", "drain_pending"]) H[k].splice(0, drop);
		for (const b of Object.values(H.backends))
			for (const k of Object.keys(b)) b[k].splice(0, drop);
	}
}

let pollTimer = null;

async function poll() {
	clearTimeout(pollTimer);
	let next = POLL_MS;
	try {
		/* Ask only for the seconds we have not seen (all of them at first). */
		let n = SPAN_S;
		if (S.hist && S.hist.t.length && S.stats)
			n = Math.min(SPAN_S, Math.ceil((S.stats.now_ms -
			    S.hist.t[S.hist.t.length - 1]) / 1000) + 3);
		const st = await api("GET", "/stats?history=" + n);
		if (S.stats && st.uptime_seconds < S.uptime) {
			/* The proxy restarted: its history starts again. */
			S.hist = null;
			S.changes = [];
		}
		S.uptime = st.uptime_seconds;
		mergeHistory(st.history);
		S.changes = st.weight_changes || [];
		S.stats = st;
		S.lastOk = Date.now();
		setDown(false);
		render();
		pollRamp();
	} catch (e) {
		if (e instanceof ApiError && e.status === 401) {
			setConn("token needed", "bad");
		} else if (e instanceof ApiError) {
			setConn("error: " + e.message, "bad");
		} else {
			setDown(true, e);
			next = RETRY_MS;
		}
	}
	pollTimer = setTimeout(poll, next);
}

function setConn(text, cls) {
	const c = $("conn");
	c.textContent = text;
	c.className = "pill " + (cls || "");
}

function setDown(down, err) {
	S.down = down;
	$("down").hidden = !down;
	$("main").classList.toggle("stale", down);
	if (down) {
		setConn("unreachable", "bad");
		$("down-detail").textContent = S.lastOk ?
		    "Last data at " + clock(S.lastOk, true) + "." :
		    "No answer from " + location.host + " yet.";
	} else {
		setConn("live", "ok");
	}
}

/* GET /ramp when it exists (404: not built in, ask again in a minute). */
async function pollRamp() {
	if (Date.now() < S.rampNext) return;
	S.rampNext = Date.now() + POLL_MS;
	try {
		const r = await api("GET", "/ramp");
		S.rampSeen = true;
		renderRamp(r);
	} catch (e) {
		if (e instanceof ApiError && e.status === 404) {
			$("ramp").hidden = true;
			S.rampNext = Date.now() + 60000;
		}
	}
}

/* ---- formatting -------------------------------------------------------- */

function clock(ms, secs) {
	const d = new Date(ms);
	const p = (n) => String(n).padStart(2, "0");
	return p(d.getHours()) + ":" + p(d.getMinutes()) +
	    (secs ? ":" + p(d.getSeconds()) : "");
}

function num(v, digits) {
	if (v === null || v === undefined || !isFinite(v)) return "–";
	if (v >= 10000) return (v / 1000).toFixed(1) + "k";
	return v.toFixed(digits === undefined ? (v < 10 && v % 1 ? 1 : 0) : digits);
}

function ms(us) {
	if (!us) return "–";
	const m = us / 1000;
	return m < 10 ? m.toFixed(2) + " ms" : m < 1000 ? m.toFixed(0) + " ms" :
	    (m / 1000).toFixed(2) + " s";
}

/* Milliseconds as a bare number, for the tiles. */
function msn(us) {
	if (!us) return "–";
	const m = us / 1000;
	return m < 10 ? m.toFixed(1) : m.toFixed(0);
}

function pct(x) {
	return x === null || x === undefined ? "–" : (x * 100).toFixed(x < 0.1 && x > 0 ? 1 : 0) + " %";
}

function el(tag, cls, text) {
	const e = document.createElement(tag);
	if (cls) e.className = cls;
	if (text !== undefined) e.textContent = text;
	return e;
}

function sv(tag, attrs, cls) {
	const e = document.createElementNS(SVGNS, tag);
	for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
	if (cls) e.setAttribute("class", cls);
	return e;
}

/* ---- numbers over the last 10 s from the history ----------------------- */

function recent(name, secs) {
	const H = S.hist, b = H && H.backends[name];
	const out = { req: 0, new: 0, reused: 0, rs: 0, e: 0, r429: 0, dt: 0 };
	if (!b) return out;
	const n = H.t.length, from = Math.max(0, n - secs);
	for (let i = from; i < n; i++) {
		for (const k of CLASSES) out.req += b[k][i];
		out.e += b["5xx"][i] + b.err[i];
		out.r429 += b["429"][i];
		out.new += b.new[i];
		out.reused += b.reused[i];
		out.dt += H.dt[i];
	}
	out.rs = out.dt ? out.req * 1000 / out.dt : 0;
	return out;
}

/* ---- rendering ---------------------------------------------------------- */

function names() {
	return S.stats ? Object.keys(S.stats.backends) : [];
}

function render() {
	const st = S.stats;
	const l = st.listeners && st.listeners[0];
	$("meta").textContent = (l ? "listener " + l.address + " · " +
	    num(l.connections_active) + " client connections · " : "") +
	    "up " + fmtUptime(st.uptime_seconds) + " · " + clock(S.lastOk, true);
	renderWeightInputs();
	renderSplits();
	renderAlb();
	renderRoutes();
	renderBackends();
}

/*
 * Per route and backend (GET /stats "routes", only with [route]
 * sections): weight, answers by class, p50/p99, all since start.
 */
function renderRoutes() {
	const rs = S.stats.routes;
	$("routes").hidden = !rs;
	if (!rs) return;
	const t = el("table", "routes");
	const head = el("tr");
	for (const h of ["route", "backend", "weight", "requests", "2xx", "4xx",
	    "429", "5xx", "p50 ms", "p99 ms"])
		head.appendChild(el("th", "", h));
	t.appendChild(head);
	for (const [rn, r] of Object.entries(rs)) {
		let first = true;
		for (const [bn, b] of Object.entries(r)) {
			const tr = el("tr", first ? "first" : "");
			const c = b.responses || {};
			const lat = b.latency_ms || {};
			tr.id = "route-" + rn + "-" + bn;
			tr.appendChild(el("td", "", first ? rn : ""));
			tr.appendChild(el("td", "", bn));
			tr.appendChild(el("td", "", String(b.weight)));
			tr.appendChild(el("td", "req", String(b.requests)));
			tr.appendChild(el("td", "", String(c["2xx"] || 0)));
			tr.appendChild(el("td", "", String(c["4xx"] || 0)));
			tr.appendChild(el("td", "", String(b.responses_429 || 0)));
			tr.appendChild(el("td", c["5xx"] ? "bad" : "", String(c["5xx"] || 0)));
			tr.appendChild(el("td", "", lat.count ? lat.p50.toFixed(1) : "–"));
			tr.appendChild(el("td", "", lat.count ? lat.p99.toFixed(1) : "–"));
			t.appendChild(tr);
			first = false;
		}
	}
	$("routes-body").replaceChildren(t);
}

function fmtUptime(s) {
	s = Math.floor(s);
	if (s < 120) return s + " s";
	if (s < 7200) return Math.floor(s / 60) + " min";
	return Math.floor(s / 3600) + " h " + Math.floor(s % 3600 / 60) + " min";
}

function renderWeightInputs() {
	const box = $("weight-inputs");
	for (const n of names()) {
		let i = box.querySelector("input[data-b='" + CSS.escape(n) + "']");
		if (!i) {
			const lab = el("label", "winput", n);
			i = el("input");
			i.type = "number";
			i.min = 0;
			i.max = 999;
			i.dataset.b = n;
			i.id = "w-" + n;
			lab.appendChild(i);
			box.appendChild(lab);
		}
		if (document.activeElement !== i && !i.dataset.edited)
			i.value = S.stats.backends[n].weight;
	}
}

function splitRow(label, shares, text) {
	const row = [el("div", "label", label), el("div", "bar"), el("div", "label", text || "")];
	names().forEach((n, i) => {
		const v = shares ? shares[n] : null;
		if (v === null || v === undefined || v <= 0) return;
		const s = el("span", "s" + (i % 4), n + " " + pct(v));
		s.style.width = (v * 100) + "%";
		row[1].appendChild(s);
	});
	return row;
}

function renderSplits() {
	const st = S.stats, box = $("splits");
	const g = el("div", "split");
	const ws = names().map((n) => n + " " + st.backends[n].weight).join(" / ");
	for (const e of splitRow("configured weights", st.split.configured, ws)) g.appendChild(e);
	const m = st.split.last_10s;
	const any = m && Object.values(m).some((v) => v !== null);
	for (const e of splitRow("measured, last 10 s", any ? m : null,
	    any ? "" : "no requests")) g.appendChild(e);
	box.replaceChildren(g);
}

/* "source 1 / target 0" */
function wtext(w) {
	return w ? Object.entries(w).map(([n, v]) => n + " " + v).join(" / ") : "–";
}

/* With [aws]: what the ALB was last seen to forward, and whether it agrees. */
function renderAlb() {
	const a = S.stats.aws, box = $("alb");
	if (!a || a.sync === "off" || !a.configured) {
		box.hidden = true;
		return;
	}
	box.hidden = false;
	const p = a.push || {}, rd = a.read || {};
	/* The newest word from the ALB: a push it accepted, or a read. */
	let seen = null;
	for (const r of [p.last_ok, rd.last_ok])
		if (r && r.weights && (!seen || r.at > seen.at)) seen = r;
	const ours = {};
	for (const n of names()) ours[n] = S.stats.backends[n].weight;
	const agree = seen && Object.keys(seen.weights).every((n) => seen.weights[n] === ours[n]);
	const parts = [["ALB sync ", a.sync]];
	if (seen) {
		parts.push([" · ALB forwards ", wtext(seen.weights)]);
		parts.push([" (as of ", seen.at + ")"]);
		parts.push([" · ", agree ? "in sync" : "differs from the proxy"]);
	} else {
		parts.push([" · ALB weights ", "not seen yet"]);
	}
	if (a.sync === "push") {
		parts.push([" · push ", p.state || "–"]);
		if (p.state && p.state !== "idle" && p.weights) parts.push([" wanting ", wtext(p.weights)]);
		if (p.failures) parts.push([" · failures in a row ", String(p.failures)]);
		if (p.next_retry_in_ms !== null && p.next_retry_in_ms !== undefined)
			parts.push([" · retry in ", (p.next_retry_in_ms / 1000).toFixed(1) + " s"]);
	}
	box.replaceChildren();
	for (const [k, v] of parts) {
		box.appendChild(document.createTextNode(k));
		box.appendChild(el("b", v === "differs from the proxy" ? "bad" : "", v));
	}
	for (const e of [p.last_error, rd.last_error]) {
		if (e && e.code) {
			box.appendChild(document.createTextNode(" · "));
			box.appendChild(el("span", "bad", "last error " + e.code + ": " +
			    (e.message || "") + " (" + e.at + ")"));
		}
	}
}

/* Shared scales so the two sides compare at a glance. */
function scales() {
	const H = S.hist;
	let rate = 1, lat = 1, conn = 1;
	for (const b of Object.values(H.backends)) {
		for (let i = 0; i < H.t.length; i++) {
			let r = 0;
			for (const k of CLASSES) r += b[k][i];
			rate = Math.max(rate, r * 1000 / (H.dt[i] || 1000));
			lat = Math.max(lat, b.p99_us[i]);
			conn = Math.max(conn, b.clients[i], b.upstream[i],
			    b.new[i] * 1000 / (H.dt[i] || 1000));
		}
	}
	return { rate: nice(rate), lat: nice(lat), conn: nice(conn) };
}

function nice(v) {
	const p = Math.pow(10, Math.floor(Math.log10(v)));
	for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
	return 10 * p;
}

function renderBackends() {
	const box = $("backends");
	const sc = scales();
	const ns = names();
	/* One card per backend, built once, updated in place. */
	for (const n of [...box.children].map((c) => c.dataset.b))
		if (!ns.includes(n)) box.querySelector("[data-b='" + CSS.escape(n) + "']").remove();
	ns.forEach((n, i) => {
		let card = box.querySelector("[data-b='" + CSS.escape(n) + "']");
		if (!card) {
			card = buildCard(n, i);
			box.appendChild(card);
		}
		fillCard(card, n, sc);
	});
}

function buildCard(n, i) {
	const card = el("section", "panel backend b" + (i % 2));
	card.dataset.b = n;
	card.id = "backend-" + n;
	const h = el("h2");
	h.appendChild(el("span", "name", n));
	h.appendChild(el("span", "w"));
	const d = el("button", "", "Drain…");
	d.id = "btn-drain-" + n;
	d.addEventListener("click", () => confirmDrain(n));
	h.appendChild(d);
	card.appendChild(h);
	card.appendChild(el("div", "tiles"));
	const dr = el("div", "drain");
	dr.hidden = true;
	card.appendChild(dr);
	for (const c of ["rate", "lat", "conn"]) {
		const ch = el("div", "chart " + c);
		ch.appendChild(el("div", "title"));
		ch.appendChild(sv("svg"));
		card.appendChild(ch);
	}
	return card;
}

function tile(k, v, cls) {
	const t = el("div", "tile " + (cls || ""));
	t.appendChild(el("div", "v", v));
	t.appendChild(el("div", "k", k));
	return t;
}

function fillCard(card, n, sc) {
	const st = S.stats, b = st.backends[n], H = S.hist, hb = H.backends[n];
	const r = recent(n, 10);
	const last = (k) => hb && hb[k].length ? hb[k][hb[k].length - 1] : 0;
	const p = (k) => {
		/* The last second with requests: an idle second has no latency. */
		for (let i = hb ? hb[k].length - 1 : -1; i >= 0 && i >= hb[k].length - 10; i--)
			if (hb[k][i]) return hb[k][i];
		return 0;
	};
	const measured = st.split.last_10s[n];
	card.querySelector(".w").textContent = "weight " + b.weight + " · " +
	    pct(b.share_configured) + " configured · " +
	    (measured === null ? "no requests" : pct(measured) + " measured");
	const errRate = r.req ? r.e / r.req : 0;
	const reuse = r.new + r.reused ? r.reused / (r.new + r.reused) : null;
	const tiles = [
		tile("req/s (10 s)", num(b.per_second_10s.requests)),
		tile("5xx + errors", pct(errRate), errRate > 0.01 ? "bad" : ""),
		tile("429/s", num(r.dt ? r.r429 * 1000 / r.dt : 0), r.r429 ? "warn" : ""),
		tile("p50 / p99 ms", msn(p("p50_us")) + " / " + msn(p("p99_us"))),
		tile("client conns", num(last("clients"))),
		tile("new upstream/s", num(r.dt ? r.new * 1000 / r.dt : 0)),
		tile("upstream reuse", reuse === null ? "–" : pct(reuse)),
		tile("pinned contexts", num(last("pinned")), last("pinned") ? "warn" : ""),
	];
	card.querySelector(".tiles").replaceChildren(...tiles);
	fillDrain(card.querySelector(".drain"), n, b.weight, last("clients"));
	const charts = card.querySelectorAll(".chart");
	chartRate(charts[0], hb, sc.rate);
	chartLat(charts[1], hb, sc.lat);
	chartConn(charts[2], hb, sc.conn);
}

/* With weight 0, the clients still bound are a drain in progress. */
function fillDrain(box, n, weight, bound) {
	if (weight > 0 || bound === 0) {
		delete S.drainMax[n];
		box.hidden = true;
		return;
	}
	S.drainMax[n] = Math.max(S.drainMax[n] || 0, bound);
	const done = 1 - bound / S.drainMax[n];
	box.hidden = false;
	box.replaceChildren(document.createTextNode("Draining: " + bound +
	    " client connection" + (bound === 1 ? "" : "s") + " still bound to " + n +
	    (S.stats.drain.connections_pending ? " (" +
	    S.stats.drain.connections_pending + " marked, closing)" : "")));
	const bar = el("div", "bar"), s = el("span");
	s.style.width = (done * 100) + "%";
	bar.appendChild(s);
	box.appendChild(bar);
}

/* ---- charts ------------------------------------------------------------- */

const CH = { h: 120, top: 14, bottom: 16, left: 44, right: 6 };

/* A fresh svg for chart box, with axes for [0, ymax]; returns helpers. */
function frame(box, ymax, yfmt) {
	const old = box.querySelector("svg");
	const w = Math.max(200, Math.round(box.clientWidth || old.clientWidth || 500));
	const s = sv("svg", { viewBox: "0 0 " + w + " " + CH.h, preserveAspectRatio: "none" });
	const H = S.hist;
	const tEnd = H.t.length ? H.t[H.t.length - 1] : Date.now();
	const tStart = tEnd - SPAN_S * 1000;
	const pw = w - CH.left - CH.right, ph = CH.h - CH.top - CH.bottom;
	const x = (t) => CH.left + (t - tStart) / (SPAN_S * 1000) * pw;
	const y = (v) => CH.top + ph - Math.min(v, ymax) / ymax * ph;
	for (const f of [0, 0.5, 1]) {
		s.appendChild(sv("line", { x1: CH.left, x2: w - CH.right, y1: y(f * ymax), y2: y(f * ymax) }, "grid"));
		const lab = sv("text", { x: CH.left - 4, y: y(f * ymax) + 3, "text-anchor": "end" }, "axis");
		lab.textContent = yfmt(f * ymax);
		s.appendChild(lab);
	}
	/* A time label a minute apart, on whole minutes. */
	for (let t = Math.ceil(tStart / 60000) * 60000; t <= tEnd; t += 60000) {
		const lab = sv("text", { x: x(t), y: CH.h - 3, "text-anchor": "middle" }, "axis");
		lab.textContent = clock(t);
		s.appendChild(lab);
		s.appendChild(sv("line", { x1: x(t), x2: x(t), y1: CH.top, y2: CH.top + ph }, "grid"));
	}
	old.replaceWith(s);
	return { s, x, y, tStart, tEnd, ph };
}

/* Dashed lines at the weight changes, labelled with the new weights. */
function marks(f) {
	for (const c of S.changes) {
		if (c.t < f.tStart || c.t > f.tEnd + 1000) continue;
		const xx = f.x(c.t);
		f.s.appendChild(sv("line", { x1: xx, x2: xx, y1: CH.top - 2, y2: CH.top + f.ph }, "mark"));
		const lab = sv("text", { x: xx + 3, y: 10 }, "marklabel");
		lab.textContent = Object.values(c.weights).join("/");
		f.s.appendChild(lab);
	}
}

function title(box, t, keys) {
	const tt = box.querySelector(".title");
	tt.replaceChildren(el("span", "t", t));
	for (const [k, cls] of keys) tt.appendChild(el("span", "key " + cls, k));
}

/* Requests per second, stacked by status class. */
function chartRate(box, hb, ymax) {
	title(box, "requests/s", CLASSES.map((k) => [k === "err" ? "proxy errors" :
	    k === "4xx" ? "4xx (not 429)" : k, "k" + k]));
	const f = frame(box, ymax, axisNum);
	const H = S.hist;
	if (hb) {
		const n = H.t.length;
		const base = new Array(n).fill(0);
		for (const k of CLASSES) {
			const top = base.map((v, i) => v + hb[k][i] * 1000 / (H.dt[i] || 1000));
			if (top.some((v, i) => v > base[i])) {
				let d = "";
				for (let i = 0; i < n; i++)
					d += (i ? "L" : "M") + f.x(H.t[i]).toFixed(1) + "," + f.y(top[i]).toFixed(1);
				for (let i = n - 1; i >= 0; i--)
					d += "L" + f.x(H.t[i]).toFixed(1) + "," + f.y(base[i]).toFixed(1);
				f.s.appendChild(sv("path", { d: d + "Z" }, "a" + k));
			}
			for (let i = 0; i < n; i++) base[i] = top[i];
		}
	}
	marks(f);
}

/* An axis label: 12.5 stays 12.5. */
function axisNum(v) {
	return v % 1 && v < 100 ? v.toFixed(1) : num(v);
}

function line(f, vals, cls, skipZero) {
	const H = S.hist;
	let d = "", pen = false;
	for (let i = 0; i < vals.length; i++) {
		if (skipZero && !vals[i]) {
			pen = false;
			continue;
		}
		d += (pen ? "L" : "M") + f.x(H.t[i]).toFixed(1) + "," + f.y(vals[i]).toFixed(1);
		pen = true;
	}
	if (d) f.s.appendChild(sv("path", { d }, cls));
}

function chartLat(box, hb, ymax) {
	title(box, "latency", [["p50", "kp50"], ["p99", "kp99"]]);
	const f = frame(box, ymax, (v) => v ? ms(v).replace(" ", "") : "0");
	if (hb) {
		line(f, hb.p99_us, "lp99", true);
		line(f, hb.p50_us, "lp50", true);
	}
	marks(f);
}

function chartConn(box, hb, ymax) {
	title(box, "connections", [["clients bound", "kcli"], ["upstream open", "kup"],
	    ["new upstream/s", "knew"]]);
	const f = frame(box, ymax, axisNum);
	if (hb) {
		const H = S.hist;
		line(f, hb.new.map((v, i) => v * 1000 / (H.dt[i] || 1000)), "lnew");
		line(f, hb.upstream, "lup");
		line(f, hb.clients, "lcli");
	}
	marks(f);
}

/* ---- the ramp (shown only when GET /ramp answers) ----------------------- */

function renderRamp(r) {
	$("ramp").hidden = false;
	const body = $("ramp-body");
	const g = el("div", "ramp-grid");
	g.appendChild(tile("state", r.state || "–"));
	if (r.route && r.route !== "default")
		g.appendChild(tile("route", r.route));
	g.appendChild(tile("step", r.step === undefined ? "–" : String(r.step)));
	g.appendChild(tile("target share", r.target_percent === undefined ? "–" : r.target_percent + " %"));
	const f = (v) => typeof v === "number" ? (Math.abs(v) < 10 ? v.toFixed(2) : v.toFixed(0)) : String(v);
	for (const c of r.checks || []) {
		g.appendChild(tile(c.name + " (limit " + f(c.limit) + ")" +
		    (c.skipped ? " · skipped" : ""),
		    "target " + f(c.target) + " · source " + f(c.source),
		    c.skipped ? "" : c.ok ? "" : "bad"));
	}
	const h = el("div", "ramp-history");
	for (const v of (r.history || []).slice(-20).reverse()) {
		const row = el("div", v.verdict === "fail" ? "fail" : v.verdict === "pass" ? "pass" : "");
		row.textContent = (v.time || "") + " step " + v.step + ": " + v.verdict +
		    (v.detail ? " — " + v.detail : "");
		h.appendChild(row);
	}
	const kids = [g];
	if (r.reason) kids.push(el("p", "", "reason: " + r.reason));
	kids.push(h);
	body.replaceChildren(...kids);
	const st = r.state || "";
	const running = ["preflight", "running", "holding"].includes(st);
	$("btn-ramp-start").disabled = running || st === "paused";
	$("btn-ramp-pause").disabled = !running;
	$("btn-ramp-resume").disabled = st !== "paused";
	$("btn-ramp-abort").disabled = !running && st !== "paused";
}

/* ---- actions, each behind a confirmation ------------------------------- */

let pending = null;	/* {run(reason)} of the open confirmation */

function confirmAction(titleText, text, run) {
	pending = run;
	$("confirm-title").textContent = titleText;
	$("confirm-text").textContent = text;
	$("confirm-error").hidden = true;
	$("confirm-ok").disabled = false;
	$("confirm").showModal();
	$("confirm-reason").focus();
}

async function confirmSubmit(ev) {
	ev.preventDefault();
	if (!pending) return;
	const reason = $("confirm-reason").value.trim();
	$("confirm-ok").disabled = true;
	try {
		await pending(reason);
		pending = null;
		$("confirm-reason").value = "";
		$("confirm").close();
		for (const i of document.querySelectorAll("#weight-inputs input"))
			delete i.dataset.edited;
		poll();
	} catch (e) {
		const err = $("confirm-error");
		err.hidden = false;
		err.textContent = (e instanceof ApiError ? "Refused: " : "Failed: ") + e.message;
		$("confirm-ok").disabled = false;
	}
}

function withReason(body, reason) {
	if (reason) body.reason = reason;
	return body;
}

function weightsText(w) {
	const sum = Object.values(w).reduce((a, b) => a + b, 0);
	return Object.entries(w).map(([n, v]) => n + " " + v + " (" +
	    (sum ? Math.round(v * 100 / sum) : 0) + " %)").join(", ");
}

function drainNote() {
	return " Client connections bound to a backend whose weight drops to 0 are drained over " +
	    (S.stats ? S.stats.drain.spread_ms / 1000 + " s" : "the drain spread") +
	    "; search contexts (scrolls, PITs) still finish where they started.";
}

function confirmSwitchover() {
	confirmAction("Switchover", "All new requests go to target: weights become target 1, source 0." +
	    drainNote(), (reason) => api("POST", "/switchover", withReason({}, reason)));
}

function confirmFallback() {
	confirmAction("Fallback", "All new requests go back to source: weights become source 1, target 0." +
	    drainNote(), (reason) => api("POST", "/fallback", withReason({}, reason)));
}

function confirmWeights() {
	const w = {};
	for (const i of document.querySelectorAll("#weight-inputs input")) {
		const v = Number(i.value);
		if (!Number.isInteger(v) || v < 0 || v > 999) {
			i.focus();
			return;
		}
		w[i.dataset.b] = v;
	}
	confirmAction("Set weights", "Weights become " + weightsText(w) + "." + drainNote(),
	    (reason) => api("PUT", "/weights", withReason(Object.assign({}, w), reason)));
}

function confirmDrain(n) {
	const b = S.stats && S.stats.backends[n];
	confirmAction("Drain " + n, "Close the " + (b ? b.client_connections + " " : "") +
	    "client connections bound to " + n + ", spread over " +
	    (S.stats ? S.stats.drain.spread_ms / 1000 + " s" : "the drain spread") +
	    ": an idle one at once, a busy one after its current response. They reconnect " +
	    "and are routed by the current weights; no request is dropped. Weights do not change.",
	    (reason) => api("POST", "/drain?backend=" + encodeURIComponent(n), withReason({}, reason)));
}

function confirmRamp(what) {
	const text = {
		start: "Start a ramp: the target's share grows step by step as configured in [ramp], " +
		    "judged against the source at every step; a failing target is rolled back.",
		pause: "Pause the ramp: the weights stay as they are now until resumed.",
		resume: "Resume the ramp from its current step.",
		abort: "Abort the ramp: all weight back to source now (a fallback).",
	}[what];
	confirmAction("Ramp: " + what, text, (reason) =>
	    api("POST", what === "start" ? "/ramp" : "/ramp/" + what, withReason({}, reason)));
}

/* ---- start ---------------------------------------------------------------- */

function init() {
	$("btn-switchover").addEventListener("click", confirmSwitchover);
	$("btn-fallback").addEventListener("click", confirmFallback);
	$("btn-weights").addEventListener("click", confirmWeights);
	$("weight-inputs").addEventListener("input", (ev) => {
		ev.target.dataset.edited = "1";
	});
	for (const w of ["start", "pause", "resume", "abort"])
		$("btn-ramp-" + w).addEventListener("click", () => confirmRamp(w));
	$("confirm-form").addEventListener("submit", confirmSubmit);
	$("confirm-cancel").addEventListener("click", () => {
		pending = null;
		$("confirm").close();
	});
	$("token-form").addEventListener("submit", tokenSubmit);
	/* Escape must not leave the token dialog with nothing to show. */
	$("token").addEventListener("cancel", (ev) => ev.preventDefault());
	window.addEventListener("resize", () => { if (S.stats) render(); });
	poll();
}

document.addEventListener("DOMContentLoaded", init);
