// Inspection screen: show the photos chosen (or just taken) before the form is sent. HEIC cannot be drawn by
// most browsers; those show their name instead.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!input.matches("input[data-photo-input]")) return;
  const list = document.getElementById("photo-previews");
  if (!list) return;
  list.querySelectorAll("img").forEach((img) => URL.revokeObjectURL(img.src));
  list.replaceChildren(
    ...Array.from(input.files, (file) => {
      const item = document.createElement("li");
      const img = document.createElement("img");
      img.alt = file.name;
      img.src = URL.createObjectURL(file);
      img.addEventListener("error", () => img.replaceWith(document.createTextNode(file.name)), { once: true });
      item.append(img);
      return item;
    }),
  );
});
