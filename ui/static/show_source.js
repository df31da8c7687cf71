// Helpers shared by the chat and source-panel components (ui/render.py joins this file
// before each component's own js_on_load). Gradio runs js_on_load once per component;
// the guard keeps the helpers defined once. Click handlers are delegated on the
// component element, which survives value updates (only its inner HTML is replaced).
if (!window.ragShowSource) {
  window.ragShowSource = function (key) {
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
    document.querySelectorAll('.cite-chip').forEach(function (chip) {
      chip.classList.toggle('active', chip.dataset.cite === key);
    });
    const box = panel.querySelector('.sources');
    if (box) box.scrollTop = 0;
    if (found) {
      // Scroll only the passage box, so the card header and the page stay put.
      const passage = found.querySelector('.passage');
      const mark = found.querySelector('mark');
      if (passage && mark) passage.scrollTop = Math.max(0, mark.offsetTop - 24);
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
