"""The dialogue side: the witness's description, the suggested question, the answer and the transcript."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton,
                               QTextBrowser, QVBoxLayout, QWidget)

from ..plain import QUESTIONER_WORDS, plain_rationale


class QuestionEdit(QPlainTextEdit):
    """The question, wrapped over two lines so a long one is never clipped; Enter moves on."""

    submitted = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        lines = self.fontMetrics().lineSpacing()
        self.setFixedHeight(lines * 2 + 26)  # two lines + document margin + frame + padding

    def text(self) -> str:
        return self.toPlainText()

    def setText(self, text: str) -> None:  # noqa: N802 (QLineEdit-like)
        self.setPlainText(text)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class DescriptionEdit(QPlainTextEdit):
    """The witness's first description: Enter searches, Shift+Enter starts a new line."""

    submitted = Signal()

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
                event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class QuestionPanel(QWidget):
    start_requested = Signal(str)  # initial description
    ask_requested = Signal(str, str)  # question as asked, answer
    dont_know_requested = Signal(str)  # question as asked
    skip_requested = Signal()
    undo_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.setMinimumWidth(300)

        title = QLabel("Witness's description")
        title.setObjectName("sectionTitle")
        layout.addWidget(title)
        self.description = DescriptionEdit()
        self.description.setTabChangesFocus(True)
        self.description.setPlaceholderText("What the witness said first, in their words, e.g. "
                                            "“a man in a red jacket and blue jeans”")
        self.description.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 14)
        self.description.submitted.connect(self._start)
        layout.addWidget(self.description)
        self.start_button = QPushButton("Search")
        self.start_button.setObjectName("primary")
        self.start_button.setToolTip("Search the gallery with this description (Enter)")
        self.start_button.clicked.connect(self._start)
        QShortcut(QKeySequence("Ctrl+Return"), self.description, self._start,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self.enter_hint = QLabel("Enter searches · Shift+Enter starts a new line")
        self.enter_hint.setObjectName("muted")
        self.enter_hint.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.enter_hint, 1)
        row.addWidget(self.start_button)
        layout.addLayout(row)

        self.round_title = QLabel("Suggested question")
        self.round_title.setObjectName("sectionTitle")
        self.round_title.setWordWrap(True)  # "Round 12 of 5 (past the planned rounds)…" is never cut off
        layout.addWidget(self.round_title)
        self.rationale = QLabel()
        self.rationale.setWordWrap(True)
        self.rationale.setObjectName("muted")
        layout.addWidget(self.rationale)
        form = QGridLayout()
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(6)
        self.question = QuestionEdit()
        self.question.setPlaceholderText("The question you ask the witness (edit freely)")
        self.question.submitted.connect(lambda: self.answer.setFocus())
        self.answer = QLineEdit()
        self.answer.setPlaceholderText("The witness's answer, then Enter")
        self.answer.returnPressed.connect(self._ask)
        form.addWidget(QLabel("Question"), 0, 0, Qt.AlignmentFlag.AlignTop)
        form.addWidget(self.question, 0, 1)
        form.addWidget(QLabel("Answer"), 1, 0)
        form.addWidget(self.answer, 1, 1)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.ask_button = QPushButton("Ask")
        self.ask_button.setObjectName("primary")
        self.ask_button.setToolTip("Record the answer and re-rank (Enter)")
        self.ask_button.clicked.connect(self._ask)
        self.skip_button = QPushButton("Skip")
        self.skip_button.setToolTip("Do not ask this; suggest another question")
        self.skip_button.clicked.connect(self.skip_requested)
        self.dont_know_button = QPushButton("Witness doesn't know")
        self.dont_know_button.clicked.connect(lambda: self.dont_know_requested.emit(self.question.text().strip()))
        self.undo_button = QPushButton("Undo last round")
        self.undo_button.setToolTip("Undo the last answered round (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo_requested)
        for b in (self.ask_button, self.dont_know_button, self.skip_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        transcript_row = QHBoxLayout()
        transcript_title = QLabel("Transcript")
        transcript_title.setObjectName("sectionTitle")
        transcript_row.addWidget(transcript_title)
        transcript_row.addStretch(1)
        transcript_row.addWidget(self.undo_button)
        layout.addSpacing(6)
        layout.addLayout(transcript_row)
        self.transcript = QTextBrowser()
        self.transcript.setOpenLinks(False)
        layout.addWidget(self.transcript, 1)
        self._started = False
        self._busy = False
        self._want_answer_focus = False
        self._turns = 0
        self._update_enabled(None)

    # -- from the session -------------------------------------------------------------------
    def show_state(self, state, initial: str) -> None:
        self._started = state is not None
        self._turns = len(state.dialogue) if state is not None else 0
        if state is None:  # a case whose interview has not started: everything starts empty
            self.description.setReadOnly(False)
            self.description.setPlainText(initial)
            self.answer.clear()
            self.transcript.clear()
            self.question.clear()
            self.rationale.clear()
            self._update_enabled(None)
            return
        self.description.setPlainText(initial)
        self.description.setReadOnly(True)
        if state.over_cap:
            self.round_title.setText(f"Round {state.round_index} (past the {state.max_rounds} planned): "
                                     "suggested question")
        else:
            self.round_title.setText(f"Round {state.round_index} of {state.max_rounds}: suggested question")
        s = state.suggestion
        self.question.setText(s.text if s else "")
        self.question.setToolTip(f"Suggested by: {QUESTIONER_WORDS.get(s.questioner, s.questioner)} "
                                 f"({s.questioner})" if s and s.questioner else "")
        why = s.rationale if s and s.rationale else ""
        self.rationale.setText(f"Why this question: {plain_rationale(why)}" if why else "")
        self.rationale.setToolTip(f"As the question suggester put it: {why}" if why else "")
        self.answer.clear()
        self._render_transcript(initial, state.dialogue)
        self._update_enabled(state)
        self._want_answer_focus = True  # once the controls are enabled again (after the busy spell)
        if self.answer.isEnabled():
            self._take_answer_focus()

    def _take_answer_focus(self) -> None:
        self._want_answer_focus = False
        self.answer.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_enabled(True if self._started else None)
        if not busy and self._started and self._want_answer_focus and self.answer.isEnabled():
            self._take_answer_focus()

    def _update_enabled(self, state) -> None:
        started = state is not None and self._started
        idle = not self._busy
        self.start_button.setVisible(not started)
        self.enter_hint.setVisible(not started)
        self.start_button.setEnabled(idle)
        for w in (self.question, self.answer, self.ask_button, self.skip_button, self.dont_know_button):
            w.setEnabled(started and idle)
        self.undo_button.setEnabled(started and idle and self._turns > 0)
        for w in (self.round_title, self.rationale):
            w.setVisible(started)

    def _render_transcript(self, initial: str, dialogue) -> None:
        parts = [f"<p><b>Witness:</b> {html.escape(initial)}</p>"]
        for i, turn in enumerate(dialogue, start=1):
            parts.append(f"<p><span style='color:#667'>Round {i}</span><br><b>Q:</b> {html.escape(turn.question)}"
                         f"<br><b>A:</b> {html.escape(turn.answer)}</p>")
        self.transcript.setHtml("".join(parts))
        bar = self.transcript.verticalScrollBar()
        bar.setValue(bar.maximum())

    # -- to the session ---------------------------------------------------------------------
    def _start(self) -> None:
        if not self._started and not self._busy:
            self.start_requested.emit(self.description.toPlainText())

    def _ask(self) -> None:
        if self._started and not self._busy and self.ask_button.isEnabled():
            self.ask_requested.emit(self.question.text().strip(), self.answer.text().strip())
