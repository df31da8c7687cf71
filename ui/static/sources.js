// The source panel's clicks: a source row opens its card, "All sources" goes back to the index.
element.addEventListener('click', function (event) {
  const row = event.target.closest('[data-cite]');
  if (row) { event.preventDefault(); window.ragShowSource(row.dataset.cite); return; }
  if (event.target.closest('.src-back')) { event.preventDefault(); window.ragShowIndex(); }
});
