// Loaded before the Jupyter widget manager (see _config.yml, nb_ipywidgets_js).
(function () {
  // 1. Tell require.js where the widget manager's modules live (this file's folder,
  //    widgets/): each module finds the fonts it loads next to its own address, so they
  //    come from the book's own _static folder, not from a CDN.
  var base = document.currentScript.src.replace(/[^\/]*$/, "") + "widgets";
  var paths = {"@jupyter-widgets/html-manager/dist": base};
  ["base", "base7", "controls", "controls7", "html-manager"].forEach(function (name) {
    paths["@jupyter-widgets/" + name] = base + "/" + name;
  });
  require.config({paths: paths});

  // 2. The widget manager typesets widget labels with MathJax 2's MathJax.Hub.Queue;
  //    the book runs MathJax 3, which has no Hub. Forward those calls to MathJax 3.
  function shim() {
    var mj = window.MathJax;
    if (!mj || mj.Hub) return;
    mj.Hub = {
      Queue: function (job) {
        var element = job && job[2];
        var ready = mj.startup && mj.startup.promise ? mj.startup.promise : Promise.resolve();
        ready.then(function () {
          if (mj.typesetPromise) return mj.typesetPromise(element ? [element] : undefined);
        });
      },
    };
  }
  shim();
  document.addEventListener("DOMContentLoaded", shim);
})();
