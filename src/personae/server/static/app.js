// personae web UI: persona library with card drag-and-drop, streamed chat, swipes, faithfulness meter and "why",
// eval runs with their progress and a viewer for their reports.
// Plain JavaScript with no dependencies, served by the app itself (works offline).
"use strict";

const state = { key: localStorage.getItem("personae-key") || "", session: null, busy: false, evalTimer: null };
const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function status(text) { $("#status").textContent = text; }

async function api(method, path, body, extraHeaders = {}) {
  const headers = { Authorization: `Bearer ${state.key}`, ...extraHeaders };
  const init = { method, headers };
  if (body instanceof Blob || body instanceof ArrayBuffer) init.body = body;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const response = await fetch(path, init);
  if (!response.ok) {
    let detail = response.statusText;
    try { const body = await response.json(); detail = body.error?.message || body.detail || detail; } catch (_) { /* not JSON */ }
    throw new Error(`${response.status}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
  }
  return response.status === 204 ? null : response;
}

// ---- library -------------------------------------------------------------------------------------------------

async function loadLibrary() {
  if (!state.key) { status("enter an API key"); return; }
  try {
    const personas = await (await api("GET", "/v1/personas")).json();
    const list = $("#personas");
    list.replaceChildren();
    for (const p of personas) {
      const item = el("li", { class: "persona", "data-id": p.id, onclick: () => startSession(p.id) },
        el("div", { class: "name" }, p.name),
        el("div", { class: "meta" }, `${p.id} · ${p.statements} statements · ${p.source}`));
      if (p.source === "uploaded") {
        item.prepend(el("button", { class: "del", title: "delete", onclick: (e) => { e.stopPropagation(); deletePersona(p.id); } }, "×"));
      }
      list.append(item);
    }
    status(`${personas.length} personas`);
    await loadSessions();
    await loadEvals();
  } catch (err) { status(err.message); }
}

async function loadSessions() {
  const sessions = await (await api("GET", "/v1/sessions")).json();
  const list = $("#sessions");
  list.replaceChildren();
  for (const s of sessions.slice(0, 30)) {
    list.append(el("li", { class: "session", onclick: () => openSession(s.id) },
      el("div", {}, s.persona_name), el("div", { class: "meta" }, `${s.turns} turns · ${s.id}`)));
  }
}

async function upload(file) {
  status(`importing ${file.name}…`);
  try {
    const data = await file.arrayBuffer();
    const imported = await (await api("POST", `/v1/personas?filename=${encodeURIComponent(file.name)}`, data,
      { "Content-Type": "application/octet-stream" })).json();
    status(`imported ${imported.map((p) => p.name).join(", ")}`);
    await loadLibrary();
  } catch (err) { status(`import failed: ${err.message}`); }
}

async function deletePersona(id) {
  try { await api("DELETE", `/v1/personas/${encodeURIComponent(id)}`); await loadLibrary(); }
  catch (err) { status(err.message); }
}

// ---- chat ----------------------------------------------------------------------------------------------------

function showSection(id) {
  for (const section of ["#chat", "#eval-view", "#empty"]) $(section).hidden = section !== id;
}

function showChat(session) {
  state.session = session;
  showSection("#chat");
  $("#chat-title").textContent = session.persona_name;
  $("#chat-guard").textContent = `guard: ${session.guard} · session ${session.id}`;
  const list = $("#messages");
  list.replaceChildren();
  if (session.greeting) list.append(message("assistant", session.persona_name, session.greeting));
  for (const turn of session.turns) {
    list.append(message("user", session.user_name, turn.user_text));
    const reply = message("assistant", session.persona_name, "");
    list.append(reply);
    renderTurn(reply, turn, turn === session.turns[session.turns.length - 1]);
  }
  list.scrollTop = list.scrollHeight;
}

async function startSession(personaId) {
  try { showChat(await (await api("POST", "/v1/sessions", { persona: personaId })).json()); await loadSessions(); }
  catch (err) { status(err.message); }
}

async function openSession(id) {
  try { showChat(await (await api("GET", `/v1/sessions/${id}`)).json()); }
  catch (err) { status(err.message); }
}

function message(role, who, text) {
  return el("li", { class: `msg ${role === "user" ? "user" : "reply"}` },
    el("div", { class: "who" }, who), el("div", { class: "text" }, text));
}

function meter(value) {
  if (value === null || value === undefined) return el("span", { class: "meter" }, "not scored");
  const pct = Math.round(value * 100);
  const level = value >= 0.66 ? "high" : value >= 0.4 ? "mid" : "low";
  const fill = el("div", { class: "fill" });
  fill.style.width = `${pct}%`;
  return el("span", { class: `meter ${level}`, title: "faithfulness: normalised APC" },
    "faithfulness", el("span", { class: "bar" }, fill), el("span", { class: "value" }, `${pct}%`));
}

function whyPanel(candidate) {
  const items = (xs, cls) => xs.length ? el("ul", { class: cls }, ...xs.map((x) => el("li", {}, x)))
    : el("p", { class: "none" }, "none");
  const panel = el("div", { class: "why-panel" },
    el("h4", {}, "Supported statements"), items(candidate.supported, "supported"),
    el("h4", {}, "Violated statements"), items(candidate.violated, "violated"));
  if (candidate.contradictions.length) {
    panel.append(el("h4", {}, "Contradicts earlier replies"), items(candidate.contradictions, "violated"));
  }
  if (candidate.ooc) {
    panel.append(el("h4", {}, "Out of character"), items(candidate.ooc_reasons.map((r) => r.replaceAll("_", " ")), "violated"));
  }
  return panel;
}

function renderTurn(node, turn, isLast) {
  const shown = turn.candidates.find((c) => c.index === turn.chosen_index) || turn.candidates[0];
  node.querySelector(".text").textContent = shown ? shown.text : "";
  node.querySelector(".tools")?.remove();
  node.querySelector(".why-panel")?.remove();
  if (!shown) return;
  const tools = el("div", { class: "tools" }, meter(shown.apc_normalized));
  if (shown.ooc) {
    tools.append(el("span", { class: "ooc-badge", title: shown.ooc_reasons.join(", ") }, "out of character"));
  }
  const why = el("button", { class: "why-button", type: "button" }, "why");
  why.addEventListener("click", () => {
    const open = node.querySelector(".why-panel");
    if (open) open.remove(); else node.append(whyPanel(shown));
  });
  tools.append(why);
  if (isLast) {
    tools.append(el("span", { class: "swipes" }, `${turn.position}/${turn.candidates.length}`));
    tools.append(el("button", { class: "swipe", type: "button", title: "next candidate",
      onclick: () => act(node, "swipe") }, "▶"));
    tools.append(el("button", { class: "regen", type: "button", title: "new candidates",
      onclick: () => act(node, "regenerate") }, "↻"));
  }
  node.append(tools);
}

async function act(node, what) {
  if (state.busy) return;
  state.busy = true;
  try {
    const turn = await (await api("POST", `/v1/sessions/${state.session.id}/${what}`)).json();
    renderTurn(node, turn, true);
  } catch (err) { status(err.message); }
  state.busy = false;
}

async function send(text) {
  const list = $("#messages");
  list.querySelectorAll(".msg.reply .swipe, .msg.reply .regen, .msg.reply .swipes").forEach((b) => b.remove());
  list.append(message("user", state.session.user_name, text));
  const reply = message("assistant", state.session.persona_name, "");
  reply.classList.add("streaming");
  list.append(reply);
  const out = reply.querySelector(".text");
  const response = await api("POST", `/v1/sessions/${state.session.id}/messages`, { content: text });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const name = (block.match(/^event: (.*)$/m) || [])[1] || "message";
      const data = JSON.parse((block.match(/^data: (.*)$/m) || [])[1] || "null");
      if (name === "delta") { out.textContent += data.text; list.scrollTop = list.scrollHeight; }
      else if (name === "turn") { renderTurn(reply, data, true); reply.classList.remove("streaming"); }
      else if (name === "error") { status(data.message); }
    }
  }
  list.scrollTop = list.scrollHeight;
}

// ---- evals ---------------------------------------------------------------------------------------------------

async function loadEvals() {
  const runs = await (await api("GET", "/v1/evals")).json();
  const list = $("#evals");
  list.replaceChildren();
  for (const run of runs.slice(0, 30)) {
    const open = run.status === "finished" ? () => openReport(run) : () => status(`eval ${run.id} is ${run.status}`);
    list.append(el("li", { class: `eval ${run.status}`, "data-id": run.id, onclick: open },
      el("div", {}, run.name, " ", el("span", { class: "eval-status" }, run.status)),
      el("div", { class: "meta" }, `${run.finished}/${run.items} items · ${run.id}${run.error ? ` · ${run.error}` : ""}`)));
  }
  clearTimeout(state.evalTimer);
  if (runs.some((run) => run.status === "running")) state.evalTimer = setTimeout(() => loadEvals().catch(() => {}), 1000);
}

async function startEval(text) {
  const yaml = !text.trimStart().startsWith("{");
  const response = await fetch("/v1/evals", {
    method: "POST",
    headers: { Authorization: `Bearer ${state.key}`, "Content-Type": yaml ? "application/yaml" : "application/json" },
    body: text,
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`${response.status}: ${body.error?.message || body.detail}`);
  status(`eval ${body.id} started: ${body.items} items`);
  await loadEvals();
}

async function openReport(run) {
  try {
    const html = await (await api("GET", `/v1/evals/${run.id}/report`)).text();
    showSection("#eval-view");
    $("#eval-title").textContent = `Eval: ${run.name}`;
    $("#eval-meta").textContent = `${run.finished}/${run.items} items · ${run.id}`;
    $("#report").srcdoc = html;  // sandboxed: the report is static HTML and SVG, it runs no script
  } catch (err) { status(err.message); }
}

// ---- wiring --------------------------------------------------------------------------------------------------

function wire() {
  $("#key").value = state.key;
  $("#key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    state.key = $("#key").value.trim();
    localStorage.setItem("personae-key", state.key);
    loadLibrary();
  });
  const zone = $("#dropzone");
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (e) => { e.preventDefault(); zone.classList.add("over"); });
  }
  for (const type of ["dragleave", "drop"]) zone.addEventListener(type, () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    for (const file of e.dataTransfer.files) upload(file);
  });
  $("#file").addEventListener("change", (e) => { for (const file of e.target.files) upload(file); });
  $("#chat-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = $("#chat-input");
    const text = input.value.trim();
    if (!text || state.busy || !state.session) return;
    input.value = "";
    state.busy = true;
    try { await send(text); await loadSessions(); } catch (err) { status(err.message); }
    state.busy = false;
  });
  $("#eval-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("#eval-spec").value.trim();
    if (!text) return;
    try { await startEval(text); } catch (err) { status(`eval not started: ${err.message}`); }
  });
  loadLibrary();
}

wire();
