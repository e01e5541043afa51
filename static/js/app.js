// Small behaviours every page shares. No inline scripts: the Content-Security-Policy forbids them.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el.matches("[data-autosubmit]")) el.form.requestSubmit();
});
