// A panel section that reads its element's view from the server: again when something of
// the element is told (`changed`), and every `refreshMs` while it is shown. Subclasses set
// `elementId`, give `node` and `load()` (which sets `readAt`).

export class ReadSection {
  /** @param {number} refreshMs how old a read may grow while the section is shown */
  constructor(refreshMs) {
    this.refreshMs = refreshMs;
    this.elementId = null;
    this.readAt = 0;
    setInterval(() => this.tick(), refreshMs / 4);
  }

  /** Something of the element was told (a divergence started or ended): read it again. */
  changed(id) {
    if (id === this.elementId && this.node.isConnected) this.load();
  }

  tick() {
    if (!this.elementId || !this.node.isConnected || document.hidden) return;
    if (Date.now() - this.readAt >= this.refreshMs) this.load();
  }
}
