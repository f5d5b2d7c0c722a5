// personae web UI: persona library with card drag-and-drop, chats (streamed replies, swipes, faithfulness meter,
// "why" with evidence, out-of-character reasons), a searchable paged chat list, and eval runs on their own page.
// Plain JavaScript with no dependencies, served by the app itself (works offline). Where the user is lives in the
// URL hash (#/chat/<id>, #/new/<persona>, #/evals, #/evals/<run>), so reload and Back keep it.

"use strict";

// The chat header's second line; the guard's name ("best-of-n") kept on one line (at phone width it broke after
// "best-").
const guardLine = (session) => `you are ${session.user_name} · guard: ${String(session.guard).replaceAll("-", "\u2011")}`;

const PAGE = 20;  // chats per page of the list
const OOC_WORDS = {
  ai_disclaimer: "says it is an AI",
  assistant_voice: "sounds like a helpful assistant",
  third_person_self: "speaks of itself in the third person",
  role_confusion: "mixes up its part and yours",
  meta_fourth_wall: "talks about the role-play itself",
  script_leak: "writes a script with speaker labels",
  era_break: "knows things its time cannot",
};

const state = {
  key: localStorage.getItem("personae-key") || "",
  userName: localStorage.getItem("personae-user-name") || "",
  session: null,        // the open session (SessionView), or a draft {draft: true, persona_id, ...} before its first message
  busy: false,          // a reply (send, swipe, regenerate) is pending
  queue: [],            // messages typed while busy: [{text, node}]
  personas: [],
  page: 0,
  search: "",
  evalTimer: null,
  evalRuns: [],
};
const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function status(text, isError = false) {
  const node = $("#status");
  node.textContent = text;
  node.classList.toggle("error", isError);
}

async function api(method, path, body, extraHeaders = {}) {
  const headers = { Authorization: `Bearer ${state.key}`, ...extraHeaders };
  const init = { method, headers };
  if (body instanceof Blob || body instanceof ArrayBuffer || typeof body === "string") init.body = body;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const response = await fetch(path, init);
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const data = await response.json();
      detail = (data.error && data.error.message) || data.detail || detail;  // OpenAI's error shape, or FastAPI's
    } catch (_) { /* not JSON */ }
    throw new Error(`${response.status}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
  }
  return response.status === 204 ? null : response;
}

// ---- small renderers ---------------------------------------------------------------------------------------------

// Inline Markdown of role-play text: `code`, **bold**, *narration* / _narration_ (italic), ```fenced code```.
// Built from DOM text nodes only, never innerHTML, so whatever a reply holds is shown as text, not run.
const INLINE = /(`+)([^`]+?)\1|\*\*([^*]+?)\*\*|\*([^*\n][^*]*?)\*|(?<![\p{L}\p{N}_])_([^_\n]+?)_(?![\p{L}\p{N}_])/gu;

function inline(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) out.push(document.createTextNode(text.slice(last, m.index)));
    if (m[2] !== undefined) out.push(el("code", {}, m[2]));
    else if (m[3] !== undefined) out.push(el("strong", {}, ...inline(m[3])));
    else out.push(el("em", { class: "narration" }, ...inline(m[4] ?? m[5])));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

function markdown(text) {
  const frag = document.createDocumentFragment();
  const parts = text.split(/```[^\n`]*\n?/);
  parts.forEach((part, i) => {
    if (i % 2 === 1) frag.append(el("pre", {}, el("code", {}, part.replace(/\n$/, ""))));
    else frag.append(...inline(part));
  });
  return frag;
}

function setText(node, text) { node.replaceChildren(markdown(text)); }

function hue(id) {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

// Persona pictures come from the API with the key (an <img src> cannot send it), as blob: URLs the CSP allows.
// One fetch per picture version: `avatar_url` changes when the picture does.
const pictures = new Map();

function picture(url) {
  if (!pictures.has(url)) {
    pictures.set(url, api("GET", url).then((r) => r.blob()).then((b) => URL.createObjectURL(b)).catch(() => null));
  }
  return pictures.get(url);
}

function pictureOf(personaId) {
  const persona = state.personas.find((p) => p.id === personaId);
  return persona ? persona.avatar_url : null;
}

// The persona's picture over coloured initials: the initials show until it loads, and stay if it cannot.
function avatar(name, id, url) {
  const initials = name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => [...w][0].toUpperCase()).join("");
  const node = el("span", { class: "avatar", "aria-hidden": "true" }, initials || "?");
  node.style.background = `hsl(${hue(id || name)} 38% 42%)`;
  if (url) {
    picture(url).then((src) => {
      if (!src) return;
      const img = el("img", { src, alt: "", onerror: () => img.remove() });
      node.append(img);
    });
  }
  return node;
}

function shortDate(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const sameYear = d.getFullYear() === now.getFullYear();
  return d.toLocaleDateString([], sameYear ? { day: "numeric", month: "short" } : { day: "numeric", month: "short", year: "numeric" });
}

function typing(name) {
  return el("span", { class: "typing", role: "status" },
    el("span", { class: "dots" }, el("i"), el("i"), el("i")), `${name} is typing…`);
}

// ---- library -----------------------------------------------------------------------------------------------------

async function loadLibrary() {
  if (!state.key) { status("enter an API key"); return; }
  try {
    state.personas = await (await api("GET", "/v1/personas")).json();
    const list = $("#personas");
    list.replaceChildren();
    for (const p of state.personas) {
      const item = el("li", { class: "persona", "data-id": p.id },
        el("a", { class: "row", href: `#/new/${encodeURIComponent(p.id)}`, title: `start a new chat with ${p.name}` },
          avatar(p.name, p.id, p.avatar_url),
          el("div", { class: "item-body" },
            el("div", { class: "name" }, p.name),
            el("div", { class: "meta" }, `${p.statements} statements · ${p.source}`))));
      if (p.source === "uploaded") {
        item.append(el("button", { class: "del", type: "button", title: `delete ${p.name}`,
          onclick: (e) => { e.stopPropagation(); deletePersona(p.id); } }, "×"));
      }
      list.append(item);
    }
    status(`${state.personas.length} personas`);
    $("#empty-lead").hidden = true;
    await loadSessions();
  } catch (err) { status(err.message, true); }
}

async function loadSessions() {
  if (!state.key) return;
  const params = new URLSearchParams({ limit: String(PAGE + 1), offset: String(state.page * PAGE) });
  if (state.search) params.set("q", state.search);
  const sessions = await (await api("GET", `/v1/sessions?${params}`)).json();
  const shown = sessions.slice(0, PAGE);
  const list = $("#sessions");
  list.replaceChildren();
  const open = state.session && !state.session.draft ? state.session.id : null;
  for (const s of shown) {
    list.append(el("li", { class: `session${s.id === open ? " active" : ""}`, "data-id": s.id },
      el("a", { class: "row", href: `#/chat/${encodeURIComponent(s.id)}` },
        avatar(s.persona_name, s.persona_id, s.avatar_url),
        el("div", { class: "item-body" },
          el("div", { class: "item-line" }, el("span", { class: "name" }, s.persona_name),
            el("time", { class: "date", datetime: s.updated_at, title: new Date(s.updated_at).toLocaleString() },
              shortDate(s.updated_at))),
          el("div", { class: "preview" }, s.preview ?? `${s.turns} turns`)))));
  }
  if (!shown.length) list.append(el("li", { class: "none" }, state.search ? "no chat matches" : "no chats yet"));
  const first = state.page * PAGE;
  $("#sessions-range").textContent = shown.length ? `${first + 1}–${first + shown.length}` : "";
  $("#session-pager").hidden = state.page === 0 && sessions.length <= PAGE;  // one page: nothing to page through
  $("#sessions-newer").disabled = state.page === 0;
  $("#sessions-older").disabled = sessions.length <= PAGE;
}

async function upload(file) {
  status(`importing ${file.name}…`);
  try {
    const data = await file.arrayBuffer();
    const imported = await (await api("POST", `/v1/personas?filename=${encodeURIComponent(file.name)}`, data,
      { "Content-Type": "application/octet-stream" })).json();
    await loadLibrary();
    status(`imported ${imported.map((p) => p.name).join(", ")}`);
  } catch (err) { status(`import failed: ${err.message}`, true); }
}

async function deletePersona(id) {
  try { await api("DELETE", `/v1/personas/${encodeURIComponent(id)}`); await loadLibrary(); }
  catch (err) { status(err.message, true); }
}

// ---- chat --------------------------------------------------------------------------------------------------------

function showView(view) {
  $("#main").dataset.view = view;
  $("#chat").hidden = view !== "chat";
  $("#empty").hidden = view !== "home";
  $("#library").hidden = view === "evals" || view === "report";
  $("#evals-page").hidden = !(view === "evals" || view === "report");
  $("#eval-view").hidden = view !== "report";
  $("#group-page").hidden = view !== "group";  // group chats: group.js
  $("#library").hidden ||= view === "group";
  $("#nav-group").classList.toggle("active", view === "group");
  $("#nav-chats").classList.toggle("active", view === "home" || view === "chat");
  $("#nav-evals").classList.toggle("active", view === "evals" || view === "report");
}

function renderChat(session) {
  state.session = session;
  showView("chat");
  $("#chat-title").textContent = session.persona_name;
  const face = avatar(session.persona_name, session.persona_id, pictureOf(session.persona_id));
  $("#chat-avatar").replaceWith(Object.assign(face, { id: "chat-avatar" }));
  $("#chat-guard").textContent = session.draft ? `new chat · you are ${session.user_name}`
    : guardLine(session);
  const list = $("#messages");
  list.replaceChildren();
  if (session.greeting) list.append(message("assistant", session.persona_name, session.greeting));
  for (const turn of session.turns) {
    list.append(message("user", session.user_name, turn.user_text));
    const reply = message("assistant", session.persona_name, "");
    list.append(reply);
    renderTurn(reply, turn, turn === session.turns[session.turns.length - 1]);
  }
  document.querySelectorAll(".session").forEach((n) => n.classList.toggle("active", n.dataset.id === session.id));
  list.scrollTop = list.scrollHeight;
  updateBusy();
  document.dispatchEvent(new CustomEvent("personae:chat", { detail: session }));  // memory.js
}

function expand(text, persona, user) {
  return text.replace(/\{\{char\}\}/gi, persona).replace(/\{\{user\}\}/gi, user);
}

async function openDraft(personaId) {
  // A new chat is only stored once its first message is sent: picking a persona creates nothing.
  try {
    const persona = await (await api("GET", `/v1/personas/${encodeURIComponent(personaId)}`)).json();
    const user = state.userName || "User";
    const greeting = persona.greetings && persona.greetings.length ? expand(persona.greetings[0], persona.name, user) : null;
    renderChat({ draft: true, id: null, persona_id: personaId, persona_name: persona.name, user_name: user,
      guard: "", greeting, turns: [] });
    $("#chat-input").focus();
  } catch (err) { status(err.message, true); location.hash = "#/"; }
}

async function openSession(id) {
  if (state.session && state.session.id === id && !$("#chat").hidden) return;
  try { renderChat(await (await api("GET", `/v1/sessions/${encodeURIComponent(id)}`)).json()); }
  catch (err) { status(err.message, true); showView("home"); }
}

function message(role, who, text) {
  const body = el("div", { class: "text" });
  setText(body, text);
  return el("li", { class: `msg ${role === "user" ? "user" : "reply"}` }, el("div", { class: "who" }, who), body);
}

function meter(c) {
  // A reply the guard never judged (fields passed through to the upstream) says so, with the reason on hover.
  if (c.guard_skipped) return el("span", { class: "meter skipped", title: c.guard_skipped,
    "aria-label": `guard skipped: ${c.guard_skipped}` }, "guard skipped");
  const value = c.apc_normalized;
  if (value === null || value === undefined) return el("span", { class: "meter" }, "not scored");
  const pct = Math.round(value * 100);
  const violated = (c.violated || []).length;
  const supported = (c.supported || []).length;
  // The colour follows the calibrated verdicts, not the raw number: normalised APC also counts the persona
  // statements a reply is about but neither supports nor contradicts, so a faithful reply can read 59 %.
  // Out of character overrides both: a reply can keep every fact and still not be the character speaking.
  const level = c.ooc ? "ooc" : violated ? "low" : value >= 0.4 ? "high" : "mid";
  const fill = el("div", { class: "fill" });
  fill.style.width = `${pct}%`;
  const verdicts = violated ? `${violated} statement${violated > 1 ? "s" : ""} violated`
    : `no statement violated, ${supported} supported`;
  const title = `faithfulness ${pct}% (normalised APC): ${verdicts}`
    + (c.ooc ? "; out of character" : "")
    + "; statements the reply touches without supporting them lower the number";
  return el("span", { class: `meter ${level}`, title, "aria-label": title },
    el("span", { class: "label" }, "faithfulness"), el("span", { class: "bar" }, fill), el("span", { class: "value" }, `${pct}%`));
}

function oocWords(reasons) {
  return reasons.map((r) => OOC_WORDS[r] || r.replaceAll("_", " "));
}

function whyPanel(candidate) {
  if (candidate.guard_skipped) {
    return el("div", { class: "why-panel" }, el("h4", {}, "Guard skipped"), el("p", { class: "none" }, candidate.guard_skipped));
  }
  const verdicts = candidate.verdicts && candidate.verdicts.length ? candidate.verdicts : [
    ...candidate.supported.map((s) => ({ statement: s, verdict: "supported", evidence: null })),
    ...candidate.violated.map((s) => ({ statement: s, verdict: "violated", evidence: null })),
  ];
  const group = (verdict) => {
    const xs = verdicts.filter((v) => v.verdict === verdict);
    if (!xs.length) return el("p", { class: "none" }, "none");
    return el("ul", { class: verdict }, ...xs.map((v) => el("li", {},
      v.statement,
      v.probability !== undefined ? el("span", { class: "prob",
        title: verdict === "violated" ? "P(contradiction)" : "P(entailment)" }, ` (${Math.round(v.probability * 100)}%)`) : null,
      v.evidence ? el("span", { class: "evidence" }, `“${v.evidence}”`) : null)));
  };
  const panel = el("div", { class: "why-panel" },
    el("h4", {}, "Supported statements"), group("supported"),
    el("h4", {}, "Violated statements"), group("violated"));
  if (candidate.contradictions.length) {
    panel.append(el("h4", {}, "Contradicts earlier replies"),
      el("ul", { class: "violated" }, ...candidate.contradictions.map((x) => el("li", {}, x))));
  }
  if (candidate.claimed_user_facts && candidate.claimed_user_facts.length) {
    panel.append(el("h4", {}, "Claims the user's facts as its own"),
      el("ul", { class: "violated" }, ...candidate.claimed_user_facts.map((x) => el("li", {}, x))));
  }
  if (candidate.ooc) {
    panel.append(el("h4", {}, "Out of character"),
      el("ul", { class: "violated" }, ...oocWords(candidate.ooc_reasons).map((x) => el("li", {}, x))));
  }
  return panel;
}

// Swipe order: the newest round first, ranked by the guard within a round, with the reply ↻ showed first in its
// round (after ↻ the server shows the best reply that differs from the one shown, which need not rank first), so
// the counter reads 1/N after ↻ and stays put while swiping. Without a remembered pick (e.g. after a reload), a
// text an earlier round already gave goes after the new ones.
const roundPicks = new Map();
const pickKey = (turn, round) => `${state.session ? state.session.id : ""}:${turn.index}:${round}`;

function swipeOrder(turn) {
  const norm = (text) => text.trim().split(/\s+/).join(" ");
  const repeats = (c) =>
    turn.candidates.some((o) => (o.round ?? 0) < (c.round ?? 0) && norm(o.text) === norm(c.text)) ? 1 : 0;
  const picked = (c) => roundPicks.get(pickKey(turn, c.round ?? 0)) === c.index ? 0 : 1;
  return [...turn.candidates].sort((a, b) =>
    (b.round ?? 0) - (a.round ?? 0) || picked(a) - picked(b) || repeats(a) - repeats(b));
}

function renderTurn(node, turn, isLast) {
  node.classList.remove("pending");
  const order = swipeOrder(turn);
  const at = Math.max(0, order.findIndex((c) => c.index === turn.chosen_index));
  const shown = order[at];
  setText(node.querySelector(".text"), shown ? shown.text : "");
  node.querySelector(".tools")?.remove();
  node.querySelector(".why-panel")?.remove();
  if (!shown) return;
  const tools = el("div", { class: "tools" }, meter(shown));
  if (shown.ooc) {
    const words = oocWords(shown.ooc_reasons);
    tools.append(el("span", { class: "ooc" }, el("span", { class: "ooc-badge" }, "out of character"),
      el("span", { class: "ooc-reason" }, words.length ? words.join("; ") : "")));
  }
  const why = el("button", { class: "why-button", type: "button", "aria-expanded": "false" }, "why");
  why.addEventListener("click", () => {
    const open = node.querySelector(".why-panel");
    if (open) open.remove(); else node.append(whyPanel(shown));
    why.setAttribute("aria-expanded", String(!open));
  });
  tools.append(why);
  if (isLast) {
    const n = order.length;
    const go = (step) => act(node, "swipe", order[(at + step + n) % n].index);
    tools.append(el("span", { class: "swiper", "data-count": String(n) },
      el("button", { class: "swipe-prev", type: "button", title: "previous reply", "aria-label": "previous reply",
        onclick: () => go(-1) }, "◀"),
      el("span", { class: "swipes", "aria-label": "reply shown" }, `${at + 1}/${n}`),
      el("button", { class: "swipe-next", type: "button", title: "next reply", "aria-label": "next reply",
        onclick: () => go(1) }, "▶")),
    el("button", { class: "regen", type: "button", title: "new replies", "aria-label": "new replies",
      onclick: () => act(node, "regenerate") }, "↻"));
    node.classList.add("last");
  }
  node.append(tools);
  updateBusy();
}

function updateBusy() {
  const busy = state.busy;
  $("#send").disabled = busy;
  $("#chat-form").setAttribute("aria-busy", String(busy));
  document.querySelectorAll(".msg.reply .tools .regen").forEach((b) => { b.disabled = busy; });
  document.querySelectorAll(".msg.reply .tools .swiper").forEach((s) => {
    for (const b of s.querySelectorAll("button")) b.disabled = busy || s.dataset.count === "1";
  });
}

async function withBusy(work) {
  state.busy = true;
  updateBusy();
  try { await work(); } catch (err) { status(err.message, true); }
  state.busy = false;
  updateBusy();
  const next = state.queue.shift();
  if (next) await deliver(next.text, next.node, next.chat);
}

async function act(node, what, to) {
  if (state.busy || !state.session || state.session.draft) return;
  const previous = node.querySelector(".text").cloneNode(true);
  await withBusy(async () => {
    if (what === "regenerate") {
      node.classList.add("pending");
      node.querySelector(".text").replaceChildren(typing(state.session.persona_name));
    }
    try {
      const query = what === "swipe" && to !== undefined ? `?to=${to}` : "";
      const turn = await (await api("POST", `/v1/sessions/${state.session.id}/${what}${query}`)).json();
      if (what === "regenerate") {
        const newest = Math.max(...turn.candidates.map((c) => c.round ?? 0));
        roundPicks.set(pickKey(turn, newest), turn.chosen_index);
      }
      state.session.turns[state.session.turns.length - 1] = turn;
      renderTurn(node, turn, true);
    } catch (err) {
      node.classList.remove("pending");
      node.querySelector(".text").replaceWith(previous);
      throw err;
    }
  });
  loadSessions().catch(() => {});
}

async function ensureSession(chat) {
  // A draft becomes a stored session with the name the user gave (the server's default is "User").
  if (!chat.draft) return chat;
  const body = { persona: chat.persona_id };
  if (chat.user_name) body.user_name = chat.user_name;
  const session = await (await api("POST", "/v1/sessions", body)).json();
  Object.assign(chat, session, { draft: false });
  if (state.session === chat) {
    history.replaceState(null, "", `#/chat/${session.id}`);
    $("#chat-guard").textContent = guardLine(session);
  }
  return chat;
}

async function stream(text, userNode, target) {
  // `target` is the chat the message was typed in: a queued message goes there even if another chat is open now.
  const list = $("#messages");
  const chat = await ensureSession(target);
  if (state.session === chat) {  // the earlier reply stops being the last: its swipes end
    list.querySelectorAll(".msg.reply.last").forEach((n) => {
      n.classList.remove("last");
      n.querySelector(".swiper")?.remove();
      n.querySelector(".regen")?.remove();
    });
  }
  const reply = message("assistant", chat.persona_name, "");
  reply.classList.add("pending", "streaming");
  const out = reply.querySelector(".text");
  out.replaceChildren(typing(chat.persona_name));
  userNode.after(reply);
  list.scrollTop = list.scrollHeight;
  const response = await api("POST", `/v1/sessions/${chat.id}/messages`, { content: text });
  let said = "";
  let failed = null;
  await readEvents(response, (name, data) => {
    if (name === "delta") { said += data.text; setText(out, said); list.scrollTop = list.scrollHeight; }
    else if (name === "turn") {
      chat.turns.push(data);
      renderTurn(reply, data, true);
      reply.classList.remove("streaming");
      document.dispatchEvent(new CustomEvent("personae:turn", { detail: chat }));  // memory.js
    } else if (name === "error") { failed = data.message; }
  });
  if (failed) {
    reply.remove();
    throw new Error(failed);
  }
  if (!reply.isConnected && state.session && state.session.id === chat.id) {
    // The chat was left and opened again while the reply was made: show it as stored now.
    renderChat(await (await api("GET", `/v1/sessions/${encodeURIComponent(chat.id)}`)).json());
  }
  list.scrollTop = list.scrollHeight;
}

async function readEvents(response, onEvent) {
  // Call onEvent(name, data) for each server-sent event of a streamed answer, as it arrives.
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
      onEvent(name, JSON.parse((block.match(/^data: (.*)$/m) || [])[1] || "null"));
    }
  }
}

async function deliver(text, userNode, chat) {
  // Send one message whose bubble is already shown (a queued one keeps its place in the conversation).
  userNode.classList.remove("queued");
  userNode.querySelector(".note")?.remove();
  await withBusy(async () => {
    try { await stream(text, userNode, chat); }
    catch (err) {
      userNode.classList.add("failed");
      userNode.append(el("div", { class: "note" }, `not sent: ${err.message}`));
      $("#chat-input").value ||= text;  // give the text back rather than lose it
      throw err;
    }
    await loadSessions();
  });
}

async function submitMessage() {
  const input = $("#chat-input");
  const text = input.value.trim();
  if (!text || !state.session) return;
  input.value = "";
  autosize();
  const list = $("#messages");
  const node = message("user", state.session.user_name, text);
  list.append(node);
  list.scrollTop = list.scrollHeight;
  if (state.busy) {
    // Never dropped: a message typed while a reply is pending waits, visibly, and goes when the reply is done.
    node.classList.add("queued");
    node.append(el("div", { class: "note" }, "queued: sends when the current reply is done"));
    state.queue.push({ text, node, chat: state.session });
    return;
  }
  await deliver(text, node, state.session);
}

function autosize() {
  const input = $("#chat-input");
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight + 2, 160)}px`;
}

// ---- evals -------------------------------------------------------------------------------------------------------

async function loadEvals() {
  const runs = await (await api("GET", "/v1/evals")).json();
  state.evalRuns = runs;
  const list = $("#evals");
  list.replaceChildren();
  for (const run of runs) {
    list.append(el("li", { class: `eval ${run.status}`, "data-id": run.id },
      el("a", { class: "row", href: `#/evals/${encodeURIComponent(run.id)}` },
        el("div", {}, run.name, " ", el("span", { class: "eval-status" }, run.status)),
        el("div", { class: "meta" },
          `${run.finished}/${run.items} items · ${shortDate(run.created_at)} · ${run.id}${run.error ? ` · ${run.error}` : ""}`))));
  }
  if (!runs.length) list.append(el("li", { class: "none" }, "no eval runs yet"));
  clearTimeout(state.evalTimer);
  const onPage = !$("#evals-page").hidden;
  if (onPage && runs.some((run) => run.status === "running")) {
    state.evalTimer = setTimeout(() => loadEvals().catch(() => {}), 1000);
  }
  return runs;
}

async function startEval(text) {
  const yaml = !text.trimStart().startsWith("{");
  const body = await (await api("POST", "/v1/evals", text,
    { "Content-Type": yaml ? "application/yaml" : "application/json" })).json();
  status(`eval ${body.id} started: ${body.items} items`);
  await loadEvals();
}

async function openReport(id) {
  try {
    const runs = state.evalRuns.length ? state.evalRuns : await loadEvals();
    const run = runs.find((r) => r.id === id);
    if (!run) throw new Error(`no eval run ${id}`);
    if (run.status !== "finished") { status(`eval ${run.id} is ${run.status}`); location.hash = "#/evals"; return; }
    const html = await (await api("GET", `/v1/evals/${run.id}/report`)).text();
    showView("report");
    $("#eval-title").textContent = `Eval: ${run.name}`;
    $("#eval-meta").textContent = `${run.finished}/${run.items} items · ${run.id}`;
    $("#report").srcdoc = html;  // sandboxed: the report is static HTML and SVG, it runs no script
  } catch (err) { status(err.message, true); }
}

// ---- routing and wiring ------------------------------------------------------------------------------------------

async function route() {
  const [, view, id] = (location.hash || "#/").split("/").map((x) => decodeURIComponent(x || ""));
  if (!state.key) { showView("home"); return; }
  if (view === "chat" && id) await openSession(id);
  else if (view === "new" && id) await openDraft(id);
  else if (view === "group") await openGroup(id);
  else if (view === "evals") {
    if (id) await openReport(id);
    else { showView("evals"); loadEvals().catch((err) => status(err.message, true)); }
  } else { state.session = null; showView("home"); document.querySelectorAll(".session.active").forEach((n) => n.classList.remove("active")); }
}

function wire() {
  $("#key").value = state.key;
  $("#user-name").value = state.userName;
  $("#key-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    state.key = $("#key").value.trim();
    localStorage.setItem("personae-key", state.key);
    await loadLibrary();
    await route();
  });
  $("#user-name").addEventListener("change", (e) => {
    state.userName = e.target.value.trim();
    localStorage.setItem("personae-user-name", state.userName);
    if (state.session && state.session.draft) {
      state.session.user_name = state.userName || "User";
      $("#chat-guard").textContent = `new chat · you are ${state.session.user_name}`;
    }
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
  $("#chat-form").addEventListener("submit", (e) => { e.preventDefault(); submitMessage(); });
  $("#chat-input").addEventListener("keydown", (e) => {
    // Enter sends (or queues, while a reply is pending: the Send button is disabled then); Shift+Enter is a new line.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submitMessage(); }
  });
  $("#chat-input").addEventListener("input", autosize);
  let searchTimer = null;
  $("#session-search").addEventListener("input", (e) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      state.search = e.target.value.trim();
      state.page = 0;
      loadSessions().catch((err) => status(err.message, true));
    }, 250);
  });
  $("#sessions-newer").addEventListener("click", () => { state.page = Math.max(0, state.page - 1); loadSessions(); });
  $("#sessions-older").addEventListener("click", () => { state.page += 1; loadSessions(); });
  $("#eval-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("#eval-spec").value.trim();
    if (!text) return;
    try { await startEval(text); } catch (err) { status(`eval not started: ${err.message}`, true); }
  });
  window.addEventListener("hashchange", () => { route(); });
  loadLibrary().then(route);
}

wire();
