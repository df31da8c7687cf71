// The conversation's clicks: a citation chip opens its source card, Copy copies the answer.
element.addEventListener('click', function (event) {
  const chip = event.target.closest('[data-cite]');
  if (chip) { event.preventDefault(); window.ragShowSource(chip.dataset.cite, chip); return; }
  const copy = event.target.closest('.copy-btn');
  if (copy) { event.preventDefault(); window.ragCopy(copy.dataset.copy, copy); }
});
