// personae web UI: "What {character} knows about you", the open chat's user memory (issue 21). Lists the facts the
// character remembers about the chat's user (with when they were told and who wrote them) and the episodes of
// earlier chats; each fact can be corrected (PATCH) or forgotten (DELETE) through /v1/users/{user}/memory, which is
// scoped to the API key. Loaded after app.js and uses its helpers (state, api, el, $, status, shortDate); app.js
// tells it when a chat opens ("personae:chat") and when a turn is stored ("personae:turn").
"use strict";

const memory = { open: false, chat: null, loading: null };

const SOURCES = { rules: "from what you said", backend: "written by the model", user: "corrected by you" };

function memoryPath(chat, query = {}) {
  const params = new URLSearchParams({ persona: chat.persona_id, ...query });
  return `/v1/users/${encodeURIComponent(chat.user_name)}/memory?${params}`;
}

function memoryButton() {
  let button = $("#memory-button");
  if (!button) {
    button = el("button", { id: "memory-button", class: "memory-button", type: "button", "aria-expanded": "false",
      "aria-controls": "memory-panel" }, "Memory");
    button.addEventListener("click", () => toggleMemory(!memory.open));
    $("#chat-head").append(button);
  }
  return button;
}

function memoryPanel() {
  let panel = $("#memory-panel");
  if (!panel) {
    panel = el("div", { id: "memory-panel", class: "memory-panel", role: "region", "aria-label": "memory" });
    panel.hidden = true;
    $("#chat-head").after(panel);
  }
  return panel;
}

function toggleMemory(open) {
  memory.open = open;
  memoryButton().setAttribute("aria-expanded", String(open));
  memoryPanel().hidden = !open;
  if (open) loadMemory().catch((err) => status(err.message, true));
}

function told(fact) {
  const when = fact.said_at ? `told ${shortDate(fact.said_at)}` : "";
  const where = fact.session_id && memory.chat && fact.session_id === memory.chat.id ? "in this chat"
    : fact.session_id ? "in an earlier chat" : "";
  return [when, where, SOURCES[fact.source] || fact.source].filter(Boolean).join(" · ");
}

function factItem(fact) {
  const text = el("div", { class: "fact-text" }, fact.text);
  const item = el("li", { class: "memory-fact", "data-id": String(fact.id) }, text,
    el("div", { class: "fact-meta" }, el("time", { datetime: fact.said_at || "",
      title: fact.said_at ? new Date(fact.said_at).toLocaleString() : "" }, told(fact))));
  const actions = el("div", { class: "fact-actions" },
    el("button", { class: "fact-edit", type: "button", onclick: () => editFact(item, fact) }, "Correct"),
    el("button", { class: "fact-forget", type: "button", onclick: () => forgetFact(fact) }, "Forget"));
  item.append(actions);
  return item;
}

function editFact(item, fact) {
  const input = el("input", { class: "fact-input", value: fact.text, maxlength: "2000", "aria-label": "corrected fact" });
  const form = el("form", { class: "fact-form", autocomplete: "off" }, input,
    el("button", { type: "submit", class: "fact-save" }, "Save"),
    el("button", { type: "button", class: "fact-cancel", onclick: () => loadMemory() }, "Cancel"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || text === fact.text) { await loadMemory(); return; }
    try {
      await api("PATCH", memoryPath(memory.chat), { correct: [{ id: fact.id, text }] });
      status("fact corrected");
      await loadMemory();
    } catch (err) { status(`not corrected: ${err.message}`, true); }
  });
  item.replaceChildren(form);
  input.focus();
}

async function forgetFact(fact) {
  try {
    await api("DELETE", memoryPath(memory.chat, { fact: String(fact.id) }));
    status("fact forgotten");
    await loadMemory();
  } catch (err) { status(`not forgotten: ${err.message}`, true); }
}

function renderMemory(chat, view) {
  const panel = memoryPanel();
  const close = el("button", { class: "memory-close", type: "button", "aria-label": "close memory",
    onclick: () => toggleMemory(false) }, "×");
  panel.replaceChildren(
    el("div", { class: "memory-head" }, el("h3", {}, `What ${chat.persona_name} knows about you`), close),
    el("p", { class: "memory-lead" },
      `Facts about ${chat.user_name} that ${chat.persona_name} remembers from your chats, newest first. `
      + "Correct one that is wrong, or forget it for good."));
  const facts = [...view.facts].reverse();
  panel.append(facts.length ? el("ul", { class: "memory-facts" }, ...facts.map(factItem))
    : el("p", { class: "none memory-empty" }, `${chat.persona_name} knows nothing about you yet.`));
  if (view.episodes.length) {
    const episodes = [...view.episodes].reverse().filter((e) => !chat.id || e.session_id !== chat.id);
    if (episodes.length) {
      panel.append(el("h4", {}, "Earlier conversations"), el("ul", { class: "memory-episodes" },
        ...episodes.map((e) => el("li", { class: "memory-episode" },
          e.happened_at ? el("time", { datetime: e.happened_at }, shortDate(e.happened_at)) : null,
          el("span", {}, e.summary)))));
    }
  }
}

async function loadMemory() {
  const chat = memory.chat;
  if (!chat || !memory.open) return;
  const view = await (await api("GET", memoryPath(chat))).json();
  if (memory.chat === chat && memory.open) renderMemory(chat, view);
}

document.addEventListener("personae:chat", (e) => {
  const chat = e.detail;
  const same = memory.chat && memory.chat.persona_id === chat.persona_id && memory.chat.user_name === chat.user_name;
  memory.chat = chat;
  memoryButton().title = `What ${chat.persona_name} knows about you`;
  if (!same) memoryPanel().replaceChildren();
  if (memory.open) loadMemory().catch((err) => status(err.message, true));
});

document.addEventListener("personae:turn", (e) => {
  if (memory.open && memory.chat === e.detail) loadMemory().catch(() => {});
});
