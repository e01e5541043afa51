// Receiving screen: the weight unit follows the category, and after a refused save the first error is shown.
document.addEventListener("change", (event) => {
  const category = event.target;
  if (category.id !== "category" || !category.dataset.units) return;
  const unit = document.getElementById("weight_unit");
  const units = JSON.parse(category.dataset.units);
  if (unit && category.value in units) unit.value = units[category.value];
});

document.addEventListener("htmx:afterSettle", (event) => {
  if (event.detail.elt.id !== "receive-form") return;
  const first = document.querySelector("#receive-form [aria-invalid=true], #receive-form .error-box");
  if (!first) return;
  first.closest("details")?.setAttribute("open", "");
  first.scrollIntoView({ block: "center" });
  if (first.matches("input, select, textarea")) first.focus({ preventScroll: true });
});
