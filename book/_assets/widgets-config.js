// Tell require.js where the Jupyter widget manager's modules live (this file's folder,
// widgets/): each module finds the fonts it loads next to its own address, so they come
// from the book's own _static folder, not from a CDN or a path that does not exist.
(function () {
  var base = document.currentScript.src.replace(/[^\/]*$/, "") + "widgets";
  var paths = {"@jupyter-widgets/html-manager/dist": base};
  ["base", "base7", "controls", "controls7", "html-manager"].forEach(function (name) {
    paths["@jupyter-widgets/" + name] = base + "/" + name;
  });
  require.config({paths: paths});
})();
