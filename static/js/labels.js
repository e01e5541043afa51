// Label sheets: the Print button opens the browser's print dialog (no inline scripts under the CSP).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
