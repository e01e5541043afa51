// Reports and trace: the Print button prints the page (print CSS in app.css hides the filters and buttons).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
