"""Images dropped from a web page as links: downloaded in the background with a timeout, a size
limit and a content-type check, then imported like any dropped image data."""

from __future__ import annotations

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest

MAX_BYTES = 64 * 1024 * 1024
TIMEOUT_MS = 20_000


class UrlFetcher(QObject):
    fetched = Signal(str, bytes)  # url, data
    failed = Signal(str, str)  # url, message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.manager = QNetworkAccessManager(self)

    def fetch(self, url: str) -> None:
        qurl = QUrl(url)
        if qurl.scheme() not in ("http", "https"):
            self.failed.emit(url, f"'{url}' is not a web address sketchdiffuse can download.")
            return
        request = QNetworkRequest(qurl)
        request.setTransferTimeout(TIMEOUT_MS)
        request.setAttribute(
            QNetworkRequest.Attribute.RedirectPolicyAttribute, QNetworkRequest.RedirectPolicy.NoLessSafeRedirectPolicy
        )
        reply = self.manager.get(request)
        reply.downloadProgress.connect(lambda done, total, r=reply: self._progress(r, done, total))
        reply.finished.connect(lambda r=reply, u=url: self._finished(r, u))

    def _progress(self, reply: QNetworkReply, done: int, total: int) -> None:
        if max(done, total) > MAX_BYTES:
            reply.setProperty("too_large", True)
            reply.abort()

    def _finished(self, reply: QNetworkReply, url: str) -> None:
        reply.deleteLater()
        name = QUrl(url).fileName() or url
        if reply.property("too_large"):
            self.failed.emit(
                url, f"'{name}' is larger than {MAX_BYTES // (1024 * 1024)} MB; download it yourself first."
            )
            return
        if reply.error() != QNetworkReply.NetworkError.NoError:
            self.failed.emit(url, f"'{name}' could not be downloaded: {reply.errorString()}.")
            return
        kind = str(reply.header(QNetworkRequest.KnownHeaders.ContentTypeHeader) or "")
        if not kind.startswith("image/"):
            self.failed.emit(url, f"'{name}' is not an image (the server says {kind or 'nothing'}).")
            return
        self.fetched.emit(url, bytes(reply.readAll().data()))
