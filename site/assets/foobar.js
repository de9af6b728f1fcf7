// Shows the X-Served-By path of this very page, fetched again so the header is readable.
(async () => {
  const response = await fetch(location.href, { method: "HEAD", cache: "no-store" });
  const path = response.headers.get("X-Served-By");
  if (!path) return;
  const line = document.createElement("p");
  line.innerHTML = "This check went through: <span id=\"served-by\"></span>";
  line.querySelector("#served-by").textContent = path;
  document.querySelector("main").append(line);
})();
