// personae web UI: group chats. The user picks two or more personas and talks with them at once; each character's
// reply shows its name and picture, its faithfulness meter, out-of-character and role-confusion badges, and its
// "why" panel (the chat view's own renderers). A group chat is a scene on the server (POST /v1/scenes, the user
// speaking first and after every round); its turns stream as server-sent events. Loaded after app.js, whose helpers
// (el, api, avatar, meter, whyPanel, oocWords, setText, typing, status, showView, state) it uses.
"use strict";

const group = {
  picked: [],       // persona ids chosen for a new group chat, in the order picked
  scene: null,      // the open group chat (SceneView), or null on the picker
  busy: false,
};
const GROUP_TURNS = 40;  // speaking turns of a group chat, the user's included (the server may allow fewer)

function groupFace(name, personaId) {
  return avatar(name, personaId || name, personaId ? pictureOf(personaId) : null);
}

function groupLine(turn) {
  // One step of the scene as a chat bubble: the user's line, a character's scored line, or a narration / event.
  if (turn.kind === "user") {
    const node = message("user", turn.speaker, turn.text);
    node.dataset.step = turn.step;
    return node;
  }
  if (turn.kind !== "line") {
    const note = el("li", { class: "msg group-note", "data-step": turn.step }, el("div", { class: "text" }));
    setText(note.querySelector(".text"), turn.kind === "end" ? `The chat ${turn.ended || "has ended"}.` : turn.text);
    return note;
  }
  const body = el("div", { class: "text" });
  setText(body, turn.text);
  const node = el("li", { class: "msg reply group-reply", "data-step": turn.step, "data-speaker": turn.speaker },
    el("div", { class: "who" }, groupFace(turn.speaker, turn.persona_id), el("span", { class: "name" }, turn.speaker)),
    body);
  const shown = turn.candidate;
  if (!shown) return node;
  const tools = el("div", { class: "tools" }, meter(shown));
  if (shown.ooc) {
    tools.append(el("span", { class: "ooc" }, el("span", { class: "ooc-badge" }, "out of character"),
      el("span", { class: "ooc-reason" }, oocWords(shown.ooc_reasons).join("; "))));
  }
  if (turn.role_confusion.length) {
    const others = [...new Set(turn.role_confusion.map((s) => s.other))].join(", ");
    tools.append(el("span", { class: "ooc confusion" }, el("span", { class: "ooc-badge" }, "role confusion"),
      el("span", { class: "ooc-reason" }, `speaks for ${others}`)));
  }
  const why = el("button", { class: "why-button", type: "button", "aria-expanded": "false" }, "why");
  why.addEventListener("click", () => {
    const open = node.querySelector(".why-panel");
    if (open) open.remove(); else node.append(whyPanel(shown));
    why.setAttribute("aria-expanded", String(!open));
  });
  tools.append(why);
  node.append(tools);
  return node;
}

function groupPicker() {
  const list = $("#group-personas");
  list.replaceChildren();
  for (const p of state.personas) {
    const box = el("input", { type: "checkbox", value: p.id, "aria-label": `add ${p.name}` });
    box.checked = group.picked.includes(p.id);
    box.addEventListener("change", () => {
      group.picked = box.checked ? [...group.picked, p.id] : group.picked.filter((id) => id !== p.id);
      $("#group-start").disabled = group.picked.length < 2;
    });
    list.append(el("li", { class: "persona" }, el("label", { class: "row" }, box, avatar(p.name, p.id, p.avatar_url),
      el("div", { class: "item-body" }, el("div", { class: "name" }, p.name)))));
  }
  $("#group-start").disabled = group.picked.length < 2;
}

async function groupList() {
  const scenes = await (await api("GET", "/v1/scenes")).json();
  const list = $("#group-chats");
  list.replaceChildren();
  for (const s of scenes) {
    list.append(el("li", { class: `session${group.scene && group.scene.id === s.id ? " active" : ""}`, "data-id": s.id },
      el("a", { class: "row", href: `#/group/${encodeURIComponent(s.id)}` },
        el("span", { class: "faces" }, ...s.characters.slice(0, 3).map((c) => groupFace(c.name, c.persona_id))),
        el("div", { class: "item-body" },
          el("div", { class: "name" }, s.characters.map((c) => c.name).join(", ")),
          el("div", { class: "meta" }, s.status)))));
  }
  if (!scenes.length) list.append(el("li", { class: "none" }, "no group chats yet"));
}

function groupRender(scene) {
  group.scene = scene;
  $("#group-page").classList.add("open");
  $("#group-view").hidden = false;
  $("#group-title").textContent = scene.characters.map((c) => c.name).join(", ");
  $("#group-faces").replaceChildren(...scene.characters.map((c) => groupFace(c.name, c.persona_id)));
  const list = $("#group-messages");
  list.replaceChildren(...scene.turns.map(groupLine));
  list.scrollTop = list.scrollHeight;
  groupStatus(scene.status);
}

function groupStatus(status) {
  if (group.scene) group.scene.status = status;
  const ended = status === "finished" || status === "interrupted";
  $("#group-meta").textContent = group.scene && group.scene.user_name
    ? `you are ${group.scene.user_name} · ${ended ? "ended" : group.busy ? "they are talking…" : "your turn"}` : status;
  $("#group-send").disabled = group.busy || ended;
  $("#group-input").disabled = ended;
}

async function groupStream(response) {
  // Read the scene's events: each turn is shown as it comes, with a typing line while the characters talk.
  const list = $("#group-messages");
  const pending = el("li", { class: "msg reply pending" }, el("div", { class: "text" }, typing("The characters are")));
  pending.querySelector(".typing").lastChild.textContent = "the characters are talking…";
  list.append(pending);
  list.scrollTop = list.scrollHeight;
  let outcome = null;
  await readEvents(response, (name, data) => {
    if (name === "scene") {
      if (!group.scene || group.scene.id !== data.id) groupRender(data);
      list.append(pending);
    } else if (name === "turn") {
      group.scene.turns.push(data);
      const mine = data.kind === "user" && list.querySelector(".msg.user.sending");
      if (mine) { mine.classList.remove("sending"); mine.dataset.step = data.step; }
      else pending.before(groupLine(data));
      list.scrollTop = list.scrollHeight;
    } else if (name === "results") outcome = data;
    else if (name === "error") outcome = { error: data.message };
  });
  pending.remove();
  if (!outcome || outcome.error) throw new Error(outcome ? outcome.error : "the group chat stopped");
  groupStatus(outcome.status);
  return outcome;
}

async function groupBusy(work) {
  group.busy = true;
  groupStatus(group.scene ? group.scene.status : "running");
  try { await work(); } catch (err) { status(err.message, true); }
  group.busy = false;
  groupStatus(group.scene ? group.scene.status : "waiting");
  groupList().catch(() => {});
}

async function groupStart() {
  if (group.picked.length < 2 || group.busy) return;
  const body = {
    name: "group chat",
    characters: group.picked.map((id) => ({ persona: id })),
    policy: $("#group-policy").value,
    user: { name: state.userName || "User", mode: "interactive", first: true },
    stop: { turns: GROUP_TURNS },
  };
  await groupBusy(async () => {
    const outcome = await groupStream(await api("POST", "/v1/scenes", body));
    history.replaceState(null, "", `#/group/${outcome.id}`);
    group.picked = [];
    $("#group-input").focus();
  });
}

async function groupSend() {
  const input = $("#group-input");
  const text = input.value.trim();
  if (!text || !group.scene || group.busy) return;
  input.value = "";
  const list = $("#group-messages");
  const mine = message("user", group.scene.user_name || "You", text);
  mine.classList.add("sending");
  list.append(mine);
  await groupBusy(async () => {
    try {
      await groupStream(await api("POST", `/v1/scenes/${encodeURIComponent(group.scene.id)}/messages`, { content: text }));
    } catch (err) {
      mine.classList.add("failed");
      mine.append(el("div", { class: "note" }, `not sent: ${err.message}`));
      input.value ||= text;
      throw err;
    }
  });
}

// Called by app.js's router for #/group (the picker) and #/group/<id> (an open group chat).
async function openGroup(id) {
  showView("group");
  groupPicker();
  groupList().catch((err) => status(err.message, true));
  if (!id) {
    group.scene = null;
    $("#group-page").classList.remove("open");
    $("#group-view").hidden = true;
    return;
  }
  if (group.scene && group.scene.id === id) return;
  try { groupRender(await (await api("GET", `/v1/scenes/${encodeURIComponent(id)}`)).json()); }
  catch (err) { status(err.message, true); location.hash = "#/group"; }
}

$("#group-start").addEventListener("click", groupStart);
$("#group-form").addEventListener("submit", (e) => { e.preventDefault(); groupSend(); });
$("#group-input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); groupSend(); }
});
