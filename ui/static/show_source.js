// Helpers shared by the chat and source-panel components (ui/render.py joins this file
// before each component's own js_on_load). Gradio runs js_on_load once per component;
// the guard keeps the helpers defined once. Click handlers are delegated on the
// component element, which survives value updates (only its inner HTML is replaced).
if (!window.ragShowSource) {
  // Show the card of citation `key`. `chip` is the clicked chip: when the source panel is stacked
  // below the conversation (a phone), a copy of the card opens inside that answer instead, because
  // the panel is a screen or more away and the reader would lose the sentence they were checking.
  window.ragShowSource = function (key, chip) {
    const panel = document.getElementById('source-panel');
    if (!panel) return;
    let found = null;
    panel.querySelectorAll('.src-card').forEach(function (card) {
      const match = card.dataset.card === key;
      card.hidden = !match;
      if (match) found = card;
    });
    const index = panel.querySelector('.src-index');
    const back = panel.querySelector('.src-back');
    if (index) index.hidden = !!found;
    if (back) back.hidden = !found;
    document.querySelectorAll('.cite-chip').forEach(function (other) {
      other.classList.toggle('active', other.dataset.cite === key);
    });
    const box = panel.querySelector('.sources');
    if (box) box.scrollTop = 0;
    if (!found) return;
    const turn = chip && chip.closest('.turn');
    if (turn && window.ragPanelStacked(panel)) {
      window.ragOpenInline(turn, found);
    } else {
      window.ragScrollToMark(found);
    }
  };
  window.ragPanelStacked = function (panel) {
    const conversation = document.getElementById('conversation');
    if (!conversation) return false;
    return panel.getBoundingClientRect().top >= conversation.getBoundingClientRect().bottom - 1;
  };
  // A copy of the card below the answer's bubble, with a Close button; cloning copies the
  // already-escaped DOM, so no document text is parsed as HTML here.
  window.ragOpenInline = function (turn, card) {
    turn.querySelectorAll('.inline-source').forEach(function (old) { old.remove(); });
    const holder = document.createElement('div');
    holder.className = 'inline-source';
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'inline-close';
    close.textContent = 'Close source';
    close.addEventListener('click', function () {
      holder.remove();
      document.querySelectorAll('.cite-chip.active').forEach(function (c) { c.classList.remove('active'); });
    });
    const copy = card.cloneNode(true);
    copy.hidden = false;
    copy.removeAttribute('data-card');
    // The sentence it backs is just above; keep the copy short enough to read both on one screen.
    copy.querySelectorAll('.src-links, .src-claims').forEach(function (extra) { extra.remove(); });
    holder.appendChild(copy);
    holder.appendChild(close);
    turn.appendChild(holder);
    window.ragScrollToMark(copy);
    holder.scrollIntoView({ block: 'nearest' });
  };
  // Scroll only the passage box to its first highlight, so the card header and the page stay put.
  window.ragScrollToMark = function (card) {
    const passage = card.querySelector('.passage');
    const mark = card.querySelector('mark');
    if (passage && mark) {
      const offset = mark.getBoundingClientRect().top - passage.getBoundingClientRect().top;
      passage.scrollTop = Math.max(0, passage.scrollTop + offset - 24);
    }
  };
  window.ragShowIndex = function () {
    const panel = document.getElementById('source-panel');
    if (!panel) return;
    panel.querySelectorAll('.src-card').forEach(function (card) { card.hidden = true; });
    const index = panel.querySelector('.src-index');
    const back = panel.querySelector('.src-back');
    if (index) index.hidden = false;
    if (back) back.hidden = true;
    document.querySelectorAll('.cite-chip.active').forEach(function (chip) { chip.classList.remove('active'); });
  };
  window.ragCopy = function (text, button) {
    const done = function () {
      const old = button.textContent;
      button.textContent = 'Copied';
      setTimeout(function () { button.textContent = old; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      const area = document.createElement('textarea');
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand('copy');
      area.remove();
      done();
    }
  };
}
