"""The pygame window, headless (``SDL_VIDEODRIVER=dummy``): geometry, a scripted game through synthetic events,
the overlay, screenshots read back pixel by pixel, closing mid-search, and the ``minigo play`` command's errors;
and the layers below the window (``gui_geometry``, ``gui_analysis``, ``gui_view``) importing without pygame."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"  # headless, even where a display exists

import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import numpy as np  # noqa: E402
import pygame  # noqa: E402
import pytest  # noqa: E402

from minigo import gui, sgf  # noqa: E402
from minigo.coords import from_gtp, to_gtp  # noqa: E402
from minigo.go import BLACK, WHITE, Position, Rules, board_from_string, handicap_points  # noqa: E402
from minigo.gui_analysis import analysis_from_search, ownership_summary  # noqa: E402
from minigo.gui_geometry import compute_layout, pixel_to_point, point_to_pixel  # noqa: E402
from minigo.gui_view import NO_DISPLAY, GameView, display_problem, user_games_dir  # noqa: E402
from minigo.players import RESIGN, RandomPlayer  # noqa: E402
from minigo.record import GameRecord, Move  # noqa: E402
from minigo.rollout import NUM_FEATURES  # noqa: E402

SIZE = (1040, 720)


# -- fake players ------------------------------------------------------------------------------------------------

class ScriptBot:
    """Plays the first legal move of its list (GTP vertices), else passes; with ``think``, it leaves a
    ``last_search`` as a search would (visits and priors per point, a line, a value)."""

    def __init__(self, moves=(), name="script", think=False, value=0.25, resign=False):
        self.moves = list(moves)
        self.name = name
        self.think = think
        self.value = value
        self.resign = resign
        self.last_search = None
        self.resets = 0
        self.closed = False

    def reset(self, rules):
        self.resets += 1

    def play(self, position):
        if self.resign:
            return RESIGN
        legal = position.legal_moves()
        move = next((p for p in (from_gtp(v, position.size) for v in self.moves) if legal[p]), position.pass_point)
        if self.think:
            n = position.pass_point
            visits = np.zeros(n + 1)
            visits[move] = 60
            second = next(p for p in range(n) if legal[p] and p != move)
            visits[second] = 30
            visits[n] = 10
            after = position.play(move)
            reply = next(p for p in range(n) if after.legal_moves()[p] and p != second)
            self.last_search = SimpleNamespace(visits=visits, prior=legal / legal.sum(), pv=[move, reply, second],
                                               value=self.value, playouts=100)
        return move

    def close(self):
        self.closed = True


class PolicyBot(ScriptBot):
    """No search, but an ``evaluator`` whose prior peaks on one point (a policy network's shape)."""

    def __init__(self, peak="C3", **kw):
        super().__init__(**kw)
        self.peak = peak
        outer = self

        class Evaluator:
            value = None  # no value network

            def evaluate(self, positions):
                rows = []
                for p in positions:
                    prior = p.legal_moves().astype(np.float64)
                    peak = from_gtp(outer.peak, p.size)
                    if prior[peak]:
                        prior[peak] = 20.0
                    rows.append(prior / prior.sum())
                return np.stack(rows), np.zeros(len(positions))

        self.evaluator = Evaluator()


class BlockingBot(ScriptBot):
    """Thinks until released (or a minute): a search the window must not wait for."""

    def __init__(self):
        super().__init__(name="slow")
        self.release = threading.Event()
        self.started = threading.Event()

    def play(self, position):
        self.started.set()
        self.release.wait(60)
        return position.pass_point


class OwnerBot(ScriptBot):
    """Offers an ownership map: the board's Tromp-Taylor owners (``Position.ownership``), with the stones on the
    points in ``dead`` (GTP vertices) given to the other side; ``calls`` keeps (position, thread name) per call."""

    def __init__(self, dead=(), **kw):
        super().__init__(**kw)
        self.dead = list(dead)
        self.calls = []

    def ownership(self, position):
        self.calls.append((position, threading.current_thread().name))
        owners = position.ownership().astype(np.float64)
        for vertex in self.dead:
            point = from_gtp(vertex, position.size)
            owners[point] = -position.board[point]
        return owners


class NoHeadBot(ScriptBot):
    """Has ``ownership`` but no map, as an MCTS player over a value net without that head."""

    calls = 0

    def ownership(self, position):
        self.calls += 1
        return None


class FailingBot(ScriptBot):
    def play(self, position):
        raise RuntimeError("GNU Go died\nlong traceback")


# -- helpers --------------------------------------------------------------------------------------------------

@pytest.fixture
def window():
    pygame.display.init()
    pygame.font.init()
    surface = pygame.display.set_mode(SIZE)
    pygame.event.clear()
    yield surface
    pygame.display.quit()


def settle(app, timeout=10.0):
    """Step frames until the bot has answered (a person is to move, or the game is over, or the bot failed)."""
    view = app.view if isinstance(app, gui.App) else app
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.step() if isinstance(app, gui.App) else view.poll()
        if view.job is None and not view._stale and (view.human_to_play() or view.game_over or view.bot_error
                                                      or view.paused or not view.at_end):
            return
        time.sleep(0.005)
    raise AssertionError("the bot did not answer")


def click(vertex_or_pos, app):
    layout = app._layout()
    pos = vertex_or_pos if isinstance(vertex_or_pos, tuple) else \
        point_to_pixel(layout.board, from_gtp(vertex_or_pos, app.view.rules.size))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1))
    app.step()


def key(k, app):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=k, mod=0, unicode=""))
    app.step()


def button(action, app):
    return next(b for b in app._layout().buttons if b.action == action)


def make_app(tmp_path, bot, human=BLACK, **kw):
    view = GameView({human: None, -human: bot}, kw.pop("rules", Rules(9, 7.5)), games_dir=tmp_path / "games",
                    **kw)
    return gui.App(view)


def brightness(colour):
    return sum(colour[:3]) / 3


# -- pure helpers ---------------------------------------------------------------------------------------------

def test_pixel_to_point_inverts_point_to_pixel_and_is_none_off_the_board():
    layout = compute_layout(*SIZE, 9)
    g = layout.board
    for point in range(81):
        x, y = point_to_pixel(g, point)
        assert pixel_to_point(g, x, y) == point
        assert pixel_to_point(g, x + 0.4 * g.spacing, y - 0.4 * g.spacing) == point
    left, top, side, _ = g.rect
    assert pixel_to_point(g, left + 2, top + 2) is None  # the margin, not an intersection
    assert pixel_to_point(g, layout.panel[0] + 10, 300) is None


def test_layout_keeps_the_board_square_and_left_of_the_panel_when_resized():
    for width, height in ((1040, 720), (800, 900), (1600, 600), (300, 200)):
        layout = compute_layout(width, height, 13)
        left, top, side, side2 = layout.board.rect
        assert side == side2 and left + side <= layout.panel[0]
        assert top + side <= layout.height


def test_the_layers_below_the_window_import_without_pygame():
    code = ("import sys; import minigo.gui_geometry, minigo.gui_analysis, minigo.gui_view; "
            "print(sorted(name for name in sys.modules if name.split('.')[0] == 'pygame'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_display_problem_and_games_folder_come_from_the_environment(tmp_path):
    assert display_problem({}, "linux") == NO_DISPLAY
    assert display_problem({"DISPLAY": ":0"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({"SDL_VIDEODRIVER": "dummy"}, "linux") is None
    assert display_problem({}, "darwin") is None
    assert user_games_dir({"XDG_DATA_HOME": str(tmp_path)}, tmp_path / "home") == tmp_path / "minigo" / "games"
    assert user_games_dir({}, tmp_path) == tmp_path / ".local" / "share" / "minigo" / "games"


def test_analysis_reads_a_search_aligned_with_its_moves():
    position = Position.empty(5)
    search = SimpleNamespace(moves=np.array([0, 12, 25]), visits=np.array([10, 30, 0]), prior=np.array([.2, .5, .3]),
                             pv=(12, 0), value=-0.5, playouts=40)
    analysis = analysis_from_search(search, position)
    assert analysis.source == "visits" and analysis.playouts == 40
    assert analysis.heat[12] == pytest.approx(0.75) and analysis.heat[0] == pytest.approx(0.25)
    assert analysis.top(2) == [(12, pytest.approx(0.75)), (0, pytest.approx(0.25))]
    assert analysis.pv == (12, 0) and analysis.value == -0.5
    nothing = SimpleNamespace(moves=np.array([25]), visits=np.zeros(1), prior=None, pv=(), value=0.0)
    assert analysis_from_search(nothing, position) is None


# -- a scripted game through events ---------------------------------------------------------------------------

def test_click_plays_then_the_bot_replies_in_the_background(tmp_path, window):
    bot = ScriptBot(["C3", "G7"])
    app = make_app(tmp_path, bot)
    app.step()
    click("E5", app)
    assert app.view.position.board[from_gtp("E5", 9)] == BLACK
    settle(app)
    board = app.view.position.board
    assert board[from_gtp("C3", 9)] == WHITE and app.view.position.to_play == BLACK
    assert bot.resets == 1 and "White (script) played C3" in app.view.status
    app.close()


def test_illegal_clicks_change_nothing_and_say_why(tmp_path, window):
    start = board_from_string("""
        . X O . .
        X O . O .
        . X O . .
        . . . . .
        . . . . .""")
    view = GameView({BLACK: None, WHITE: None}, Rules(5), games_dir=tmp_path, start=start)  # two people
    app = gui.App(view)
    click("B5", app)
    assert "B5 is occupied" in view.status and len(view.line) == 1
    click("C4", app)  # black captures B4: a ko
    assert view.position.board[from_gtp("B4", 5)] == 0 and view.position.to_play == WHITE
    click("B4", app)
    assert "ko" in view.status and len(view.line) == 2
    click("A5", app)
    assert "A5 would be suicide" in view.status and len(view.line) == 2
    click("E1", app)
    assert view.position.board[from_gtp("E1", 5)] == WHITE and view.status == ""


def test_superko_click_is_refused_with_the_reason(tmp_path, window):
    # 2x2 (test_go.CYCLE): Black A2 would take three stones and bring back the board after the first move
    position = Position.empty(2, komi=0)
    for vertex in ("A2", "B1", "B2", "A1", "A2", "B2"):
        position = position.play(from_gtp(vertex, 2))
    view = GameView({BLACK: None, WHITE: None}, Rules(2, 0), games_dir=tmp_path, start=position)
    app = gui.App(view)
    click("A2", app)
    assert view.status == "Illegal: A2 repeats an earlier board (positional superko)." and len(view.line) == 1


def test_two_passes_end_the_game_with_the_go_score_and_save_it(tmp_path, window):
    bot = ScriptBot(["D5", "D4", "D3", "D2", "D1"])  # a wall, then passes
    app = make_app(tmp_path, bot, rules=Rules(5, 7.5))
    for vertex in ("C5", "C4", "C3", "C2", "C1"):
        click(vertex, app)
        settle(app)
    key(pygame.K_p, app)
    settle(app)
    view = app.view
    assert view.game_over and view.position.passes == 2
    assert view.position.area() == (15, 10) and view.result == view.position.result() == "W+2.5"
    assert "Game over (two passes): W+2.5" in view.status
    saved = list((tmp_path / "games").glob("*.sgf"))
    assert len(saved) == 1
    record = sgf.load(saved[0])
    assert record.result == "W+2.5" and len(record.moves) == len(view.moves) == 12
    assert record.final_position().score() == view.position.score()
    # the scoring view marks territory: a black square on A1, a white one on E1
    app.step()
    g = app._layout().board
    x, y = point_to_pixel(g, from_gtp("A1", 5))
    assert brightness(window.get_at((x + 3, y + 3))) < 60
    x, y = point_to_pixel(g, from_gtp("E1", 5))
    assert brightness(window.get_at((x + 3, y + 3))) > 220
    click("A1", app)
    assert "game is over" in view.status and len(view.line) == 13


def test_undo_takes_back_the_bots_reply_too(tmp_path, window):
    app = make_app(tmp_path, ScriptBot(["C3", "G7"]))
    click("E5", app)
    settle(app)
    click("D4", app)
    settle(app)
    assert len(app.view.line) == 5
    key(pygame.K_u, app)
    view = app.view
    assert len(view.line) == 3 and view.position.to_play == BLACK
    assert view.position.board[from_gtp("D4", 9)] == 0 and view.position.board[from_gtp("G7", 9)] == 0
    click(button("undo", app).rect[:2], app)
    assert len(view.line) == 1 and not view.position.board.any()
    key(pygame.K_u, app)
    assert "Nothing to undo" in view.status


def test_resign_button_ends_the_game_and_undo_takes_it_back(tmp_path, window):
    app = make_app(tmp_path, ScriptBot(["C3"]), human=WHITE)
    settle(app)  # the bot opens as Black
    assert app.view.position.to_play == WHITE
    x, y, w, h = button("resign", app).rect
    click((x + w // 2, y + h // 2), app)
    view = app.view
    assert view.game_over and view.result == "B+R" and "White resigned" in view.status
    assert len(list((tmp_path / "games").glob("*.sgf"))) == 1
    key(pygame.K_u, app)
    assert view.result is None and view.human_to_play()


def test_the_bot_resigning_ends_the_game(tmp_path, window):
    app = make_app(tmp_path, ScriptBot(resign=True))
    click("E5", app)
    settle(app)
    assert app.view.result == "B+R" and "White resigned" in app.view.status


def test_bot_failure_goes_to_the_status_line(tmp_path, window):
    app = make_app(tmp_path, FailingBot(name="gnugo:5"))
    click("E5", app)
    settle(app)
    assert "White (gnugo:5) failed: GNU Go died." in app.view.status
    key(pygame.K_u, app)
    assert app.view.bot_error is None and len(app.view.line) == 1


def test_handicap_stones_are_placed_and_white_moves_first(tmp_path, window):
    bot = ScriptBot(["E5"])
    app = make_app(tmp_path, bot, rules=Rules(9, 0.5), handicap=3)
    settle(app)
    view = app.view
    assert sorted(np.flatnonzero(view.line[0].board == BLACK)) == sorted(handicap_points(9, 3))
    assert view.moves[0] == Move(WHITE, from_gtp("E5", 9)) and view.position.to_play == BLACK
    record = view.record()
    assert record.handicap == 3 and record.first_to_play == WHITE


def test_watching_two_bots_plays_a_whole_game(tmp_path, window):
    view = GameView({BLACK: RandomPlayer(np.random.default_rng(1)), WHITE: RandomPlayer(np.random.default_rng(2))},
                    Rules(5, 0.5), games_dir=tmp_path)
    app = gui.App(view)
    assert [b.action for b in app._layout().buttons][0] == "pause"
    deadline = time.monotonic() + 15
    while not view.game_over and time.monotonic() < deadline:
        app.step()
    assert view.game_over and view.result == view.position.result()
    assert len(list(tmp_path.glob("*.sgf"))) == 1


def test_open_an_sgf_to_review_and_branch_off(tmp_path, window):
    moves = [Move(BLACK, from_gtp("E5", 9)), Move(WHITE, from_gtp("C3", 9)), Move(BLACK, from_gtp("G7", 9))]
    record = GameRecord(size=9, komi=6.5, moves=moves, black="a", white="b")
    path = tmp_path / "game.sgf"
    sgf.save(record, path)
    view = GameView({BLACK: ScriptBot(["D4"]), WHITE: None}, Rules(), games_dir=tmp_path / "games",
                    record=sgf.load(path))
    app = gui.App(view)
    assert view.rules.komi == 6.5 and len(view.line) == 4 and view.position.to_play == WHITE
    key(pygame.K_LEFT, app)
    key(pygame.K_LEFT, app)
    assert view.cursor == 1 and "Move 1 of 3" in view.status
    key(pygame.K_RIGHT, app)
    assert view.cursor == 2
    key(pygame.K_LEFT, app)
    click("D6", app)  # White plays another move at move 1: the line is cut there and the bot answers
    settle(app)
    assert [to_gtp(m.point, 9) for m in view.moves] == ["E5", "D6", "D4"]


# -- what the bot thought --------------------------------------------------------------------------------------

def test_overlay_shows_the_search_heat_map_line_and_win_chance(tmp_path, window):
    bot = ScriptBot(["C3", "G7"], think=True, value=0.5)
    app = make_app(tmp_path, bot)
    click("E5", app)
    settle(app)
    before = window.copy()
    key(pygame.K_a, app)
    view = app.view
    assert view.overlay
    analysis, played = view.shown_analysis()
    assert played == (from_gtp("C3", 9),) and analysis.source == "visits"
    assert view.last_estimate() == (WHITE, pytest.approx(0.75), "script")
    g = app._layout().board
    second = int(np.argsort(-analysis.heat[:-1])[1])  # the runner-up: a heat disc (or its ghost stone)
    x, y = point_to_pixel(g, second)
    assert window.get_at((x + 4, y + 4)) != before.get_at((x + 4, y + 4))
    reply = analysis.pv[1]  # the expected reply: a translucent black ghost stone numbered 1
    x, y = point_to_pixel(g, reply)
    assert brightness(window.get_at((x + 6, y + 6))) < brightness(before.get_at((x + 6, y + 6))) - 40
    key(pygame.K_a, app)
    assert not view.overlay
    assert window.get_at((x + 6, y + 6)) == before.get_at((x + 6, y + 6))


def test_overlay_falls_back_to_the_players_policy(tmp_path, window):
    app = make_app(tmp_path, PolicyBot(peak="C3", moves=["G7"]))
    key(pygame.K_a, app)  # nothing searched yet: the policy is asked about the position on the board
    analysis, played = app.view.shown_analysis()
    assert analysis.source == "prior" and played == () and analysis.value is None
    assert analysis.top(1)[0][0] == from_gtp("C3", 9) and analysis.pv[0] == from_gtp("C3", 9)
    click("E5", app)
    settle(app)
    analysis, played = app.view.shown_analysis()
    assert played == (from_gtp("G7", 9),) and analysis.position is app.view.line[1]
    assert app.view.last_estimate() is None


def test_overlay_toggle_says_when_the_player_gives_no_analysis(tmp_path, window):
    app = make_app(tmp_path, RandomPlayer())
    key(pygame.K_a, app)
    assert not app.view.overlay and app.view.status == "No analysis for this player."


# -- who owns what -----------------------------------------------------------------------------------------------

CORNERS = board_from_string("""
    . X . O .
    X X . O O
    . . . . .
    . . O . .
    . . . . .
""")  # A5 reaches only black, E5 only white; the white stone on C2 is alone


def _button_state(app, action):
    return gui._button_state(app.view, button(action, app))


def test_ownership_key_toggles_the_players_map(tmp_path, window):
    bot = OwnerBot()
    app = make_app(tmp_path, bot, start=CORNERS)
    key(pygame.K_o, app)
    view = app.view
    assert view.ownership_overlay and _button_state(app, "ownership") == (True, True, "Ownership")
    np.testing.assert_array_equal(view.shown_ownership(), CORNERS.ownership())
    key(pygame.K_o, app)
    assert not view.ownership_overlay and _button_state(app, "ownership") == (True, False, "Ownership")
    button_rect = button("ownership", app).rect
    click((button_rect[0] + 5, button_rect[1] + 5), app)
    assert view.ownership_overlay
    assert len(bot.calls) == 1  # asked once for the shown position, then kept
    assert "ownership" not in [b.action for b in compute_layout(560, 420, 9).buttons]  # no room: O only


def test_ownership_overlay_marks_owned_points_and_dead_stones(tmp_path, window):
    app = make_app(tmp_path, OwnerBot(dead=["C2"]), start=CORNERS)
    app.step()
    before = window.copy()
    key(pygame.K_o, app)
    g = app._layout().board

    def at(vertex, surface):  # beside the lines' crossing, still inside a square
        x, y = point_to_pixel(g, from_gtp(vertex, 5))
        return brightness(surface.get_at((x + 6, y + 6)))

    assert at("A5", window) < at("A5", before) - 60  # Black's empty corner: a dark square
    assert at("E5", window) > at("E5", before) + 20  # White's: a light one
    assert at("C2", window) < at("C2", before) - 100  # the white stone Black owns: a dark square on it
    assert at("C1", window) == at("C1", before)  # nobody's point: unchanged
    key(pygame.K_o, app)
    assert at("A5", window) == at("A5", before)


@pytest.mark.parametrize("bot", [RandomPlayer(), NoHeadBot()], ids=["no method", "no head"])
def test_ownership_toggle_says_when_no_player_offers_a_map(tmp_path, window, bot):
    app = make_app(tmp_path, bot, start=CORNERS)
    app.step()
    board = app._layout().board.rect
    before = pygame.surfarray.array3d(window.subsurface(board)).copy()
    for _ in range(2):
        key(pygame.K_o, app)
        assert not app.view.ownership_overlay
        assert app.view.status == "No ownership map for this player (it needs a value net with an ownership head)."
    np.testing.assert_array_equal(pygame.surfarray.array3d(window.subsurface(board)), before)
    assert getattr(bot, "calls", 1) == 1  # a player without a map is asked once


def test_ownership_summary_adds_up_the_map_like_gtp():
    # Black: B5 A4 B4 and A5; White: D5 D4 E4 C2 and E5; the rest reaches both
    assert ownership_summary(CORNERS.ownership(), 0.5) == "expected area: Black 4.0, White 5.0, komi 0.5: W+1.5"
    half = np.array([0.5, -0.25, 0.0, 1.0])
    assert ownership_summary(half, 0.0) == "expected area: Black 1.5, White 0.2, komi 0: B+1.2"


def test_panel_says_the_area_the_map_adds_up_to(tmp_path, window, monkeypatch):
    app = make_app(tmp_path, OwnerBot(), start=CORNERS)
    drawn, text = [], gui._text

    def recording(surface, line, *args, **kwargs):
        drawn.append(line)
        return text(surface, line, *args, **kwargs)

    monkeypatch.setattr(gui, "_text", recording)
    key(pygame.K_o, app)
    assert "Ownership (O): shown" in drawn
    assert " ".join(drawn).count("expected area: Black 4.0, White 5.0, komi 7.5: W+8.5") == 1


def test_the_bot_computes_the_map_after_its_move_in_its_thread_and_browsing_asks_once(tmp_path, window):
    bot = OwnerBot(moves=["D2"])
    app = make_app(tmp_path, bot, start=CORNERS)
    key(pygame.K_o, app)
    click("B3", app)
    settle(app)
    view = app.view
    after = view.position
    assert view.moves[-1].point == from_gtp("D2", 5)
    assert [(p, name) for p, name in bot.calls if p is after] == [(after, "minigo-bot")]
    np.testing.assert_array_equal(view.shown_ownership(), after.ownership())
    key(pygame.K_LEFT, app)  # the position after B3: asked here, once, while the bot is idle
    for _ in range(3):
        key(pygame.K_RIGHT, app)
        key(pygame.K_LEFT, app)
    shown = view.position
    assert [name for p, name in bot.calls if p is shown] == ["MainThread"]
    np.testing.assert_array_equal(view.shown_ownership(), shown.ownership())


# -- the count at the end ------------------------------------------------------------------------------------------

# Black's wall on column D owns the left, White's on E the right; the white stone on B2 and the black one on H8 are
# deep in the other's area. By the rules (Tromp-Taylor) they live and make both sides' regions neutral: W+0.5 with
# komi 0.5. Taken off as dead: Black 36, White 45, W+9.5 (tests/test_scoring.py has GNU Go agree).
INVADERS = board_from_string("""
    . . . X O . . . .
    . . . X O . . X .
    . . . X O . . . .
    . . . X O . . . .
    . . . X O . . . .
    . . . X O . . . .
    . . . X O . . . .
    . O . X O . . . .
    . . . X O . . . .
""", komi=0.5)


class RolloutBot(ScriptBot):
    """No ownership map, but an MCTS player's rollout policy (``mcts.rollout_weights``): all-zero weights, every
    sensible move alike."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.mcts = SimpleNamespace(rollout_weights=np.zeros(NUM_FEATURES + 1))


def record_text(monkeypatch):
    """Every line ``gui._text`` draws from now on, as (text, its rect)."""
    drawn, text = [], gui._text

    def recording(surface, line, *args, **kwargs):
        rect = text(surface, line, *args, **kwargs)
        drawn.append((line, pygame.Rect(rect)))
        return rect

    monkeypatch.setattr(gui, "_text", recording)
    return drawn


def pass_out(app):
    """The person (Black) passes, then the bot (which has no moves) passes: the game is over."""
    key(pygame.K_p, app)
    settle(app)
    app.step()
    assert app.view.game_over and app.view.position.passes == 2


def test_two_passes_take_the_dead_off_by_the_bots_map_and_the_record_keeps_the_rules_result(tmp_path, window,
                                                                                           monkeypatch):
    app = make_app(tmp_path, OwnerBot(dead=["B2", "H8"]), start=INVADERS, rules=INVADERS.rules)
    drawn = record_text(monkeypatch)
    pass_out(app)
    view = app.view
    count = view.final_count()
    assert sorted(count.dead) == sorted([(from_gtp("B2", 9),), (from_gtp("H8", 9),)])
    assert count.source == "map" and count.judged_by == "White's ownership map"
    assert count.result == "W+9.5" and count.counted.area() == (36, 45)
    assert view.result == "W+0.5"  # the rules' result, of every stone on the board
    assert "W+9.5 counted, W+0.5 by the rules" in view.status
    record = sgf.load(next((tmp_path / "games").glob("*.sgf")))
    assert record.result == "W+0.5" and "Tromp-Taylor area: black 10, white 10" in record.comment
    lines = [line for line, _ in drawn]
    assert "count, dead stones removed: W+9.5" in lines and "rules (Tromp-Taylor, as recorded): W+0.5" in lines
    assert "W+9.5" in lines and "Black 36" in lines and "White 45 + 0.5 = 45.5" in lines


def test_the_count_marks_the_dead_stones_and_the_territory_without_them(tmp_path, window):
    app = make_app(tmp_path, OwnerBot(dead=["B2", "H8"]), start=INVADERS, rules=INVADERS.rules)
    pass_out(app)
    g = app._layout().board
    side = round(0.25 * g.spacing)  # inside a stone, off the lines, outside the territory square in its middle

    def at(vertex, dx, dy=0):
        x, y = point_to_pixel(g, from_gtp(vertex, 9))
        return brightness(window.get_at((x + dx, y + dy)))

    assert at("B2", 3, 3) < 60 and at("H8", 3, 3) > 220  # each dead stone carries its new owner's square
    assert at("E1", 3, 3) > 190 and at("D1", 3, 3) < 70  # the live stones are as they were: no square
    wood = at("F5", -side, -side)  # beside an empty point's square
    assert wood + 20 < at("B2", -side, -side) < at("E2", -side, -side) - 20  # the dead white stone, faded
    assert at("D8", -side, -side) + 20 < at("H8", -side, -side) < wood - 20  # the dead black one
    assert at("A1", 3, 3) < 60 and at("J1", 3, 3) > 220  # the territory, neutral by the rules, counts


def test_without_a_map_or_rollouts_the_end_counts_the_board_as_it_stands(tmp_path, window, monkeypatch):
    app = make_app(tmp_path, ScriptBot(), start=INVADERS, rules=INVADERS.rules)
    drawn = record_text(monkeypatch)
    pass_out(app)
    view = app.view
    count = view.final_count()
    assert count.source == "board" and count.dead == () and count.result == view.result == "W+0.5"
    assert view.status.startswith("Game over (two passes): W+0.5.")
    lines = " ".join(line for line, _ in drawn)
    assert "dead" not in lines and "Tromp-Taylor" not in lines and "Black 10" in lines
    g = app._layout().board
    x, y = point_to_pixel(g, from_gtp("B2", 9))
    assert brightness(window.get_at((x + 3, y + 3))) > 190  # a white stone as any other
    x, y = point_to_pixel(g, from_gtp("A1", 9))
    wood = window.get_at((x + 3, y + 3))
    assert wood.r > wood.g > wood.b  # neutral: no square


def test_without_a_map_the_bots_rollout_policy_judges_the_dead(tmp_path, window, monkeypatch):
    app = make_app(tmp_path, RolloutBot(), start=INVADERS, rules=INVADERS.rules)
    drawn = record_text(monkeypatch)
    pass_out(app)
    count = app.view.final_count()
    assert count.source == "playouts" and (from_gtp("B2", 9),) in count.dead
    assert "White's rollout playouts judged" in " ".join(line for line, _ in drawn)
    assert app.view.final_count() is count  # made once for the final position, then kept


def test_with_the_ownership_overlay_on_the_maps_squares_replace_the_count_on_the_board(tmp_path, window):
    app = make_app(tmp_path, OwnerBot(dead=["B2", "H8"]), start=INVADERS, rules=INVADERS.rules)
    pass_out(app)
    before = window.copy()
    key(pygame.K_o, app)
    g = app._layout().board
    x, y = point_to_pixel(g, from_gtp("A1", 9))  # neutral by the rules, the map's 0: no square under O
    assert brightness(window.get_at((x + 3, y + 3))) > brightness(before.get_at((x + 3, y + 3))) + 60


# -- the overlay, polished -----------------------------------------------------------------------------------------

def test_a_ghost_stone_keeps_its_share_below_its_number(tmp_path, window, monkeypatch):
    app = make_app(tmp_path, ScriptBot(["C3", "G7"], think=True))
    click("E5", app)
    settle(app)
    drawn = record_text(monkeypatch)
    key(pygame.K_a, app)
    analysis, played = app.view.shown_analysis()
    g = app._layout().board
    second = analysis.pv[2]  # the bot's runner-up (30% of the visits), the line's second move: ghost 2
    assert second == int(np.argsort(-analysis.heat[:-1])[1]) and round(100 * analysis.heat[second]) == 30
    x, y = point_to_pixel(g, second)
    stone = pygame.Rect(0, 0, 2 * g.stone_radius, 2 * g.stone_radius)
    stone.center = (x, y)
    on_it = [(line, rect) for line, rect in drawn if stone.collidepoint(rect.center)]
    assert [line for line, _ in on_it] == ["2", "30%"]  # the number, then the share: no heat label under them
    (_, number), (_, share) = on_it
    assert number.centery < y < share.centery and share.centery - number.centery >= 0.3 * g.spacing  # apart
    assert stone.contains(share.inflate(-4, -4))
    reply = analysis.pv[1]  # ghost 1 is on a point the bot gave no visits: its number alone
    x, y = point_to_pixel(g, reply)
    assert [line for line, rect in drawn if rect.collidepoint(x, y)] == ["1"]


def _board_pixels(app, window):
    return pygame.surfarray.array3d(window.subsurface(app._layout().board.rect)).copy()


def test_no_heat_map_when_the_bots_move_was_a_pass(tmp_path, window, monkeypatch):
    app = make_app(tmp_path, PolicyBot(peak="C3", moves=[]))  # a policy that likes C3, and a bot that passes
    click("E5", app)
    settle(app)
    assert app.view.moves[-1].point == app.view.position.pass_point and not app.view.game_over
    app.step()
    before = _board_pixels(app, window)
    drawn = record_text(monkeypatch)
    key(pygame.K_a, app)
    assert app.view.overlay and app.view.shown_analysis() is not None
    np.testing.assert_array_equal(_board_pixels(app, window), before)
    lines = [line for line, _ in drawn]
    assert "White passed: no heat map for a pass." in lines
    assert not any(line.startswith(("it played", "best:", "heat map")) for line in lines)


def test_no_heat_map_once_the_game_is_over(tmp_path, window, monkeypatch):
    app = make_app(tmp_path, PolicyBot(peak="C3", moves=[]))
    key(pygame.K_a, app)  # on from the start: the policy's heat map on the empty board
    assert app.view.shown_analysis() is not None
    pass_out(app)
    drawn = record_text(monkeypatch)
    shown = _board_pixels(app, window)
    key(pygame.K_a, app)
    assert not app.view.overlay
    np.testing.assert_array_equal(_board_pixels(app, window), shown)  # the overlay added nothing to the board
    key(pygame.K_a, app)
    lines = [line for line, _ in drawn]
    assert "Game over: browse back (\u2190) to see it." in lines
    assert not any(line.startswith(("it played", "best:")) for line in lines)
    key(pygame.K_LEFT, app)  # browsing back, what it thought is there again
    assert not app.view.game_over and app.view.shown_analysis() is not None


# -- screenshots ----------------------------------------------------------------------------------------------

def test_midgame_screenshot_shows_the_stones_where_they_were_played(tmp_path, window):
    app = make_app(tmp_path, ScriptBot(["C3", "G7", "C7", "G3"], think=True))
    for vertex in ("E5", "D4", "F6", "E3"):
        click(vertex, app)
        settle(app)
    path = tmp_path / "midgame.png"
    gui.screenshot(app.view, path, SIZE)
    image = pygame.image.load(str(path))
    assert image.get_size() == SIZE
    g = compute_layout(*SIZE, 9).board
    pixels = pygame.surfarray.array3d(image)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 500  # not blank
    for vertex in ("E5", "D4", "F6", "E3"):
        x, y = point_to_pixel(g, from_gtp(vertex, 9))
        assert brightness(image.get_at((x, y))) < 70, vertex
    for vertex in ("C3", "G7", "C7", "G3"):
        x, y = point_to_pixel(g, from_gtp(vertex, 9))
        assert brightness(image.get_at((x + 4, y + 4))) > 190, vertex
    x, y = point_to_pixel(g, from_gtp("A9", 9))
    wood = image.get_at((x + 6, y + 6))
    assert wood.r > wood.g > wood.b and 120 < brightness(wood) < 200
    panel = image.get_at((SIZE[0] - 5, SIZE[1] // 2))
    assert tuple(panel)[:3] == gui.PALETTE.panel


# -- closing ----------------------------------------------------------------------------------------------------

def test_closing_during_the_bots_search_returns_promptly(tmp_path, window):
    bot = BlockingBot()
    app = make_app(tmp_path, bot)
    click("E5", app)
    app.step()
    assert bot.started.wait(5) and app.view.thinking
    assert "thinking" in app.view.thinking_text()
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    start = time.monotonic()
    assert app.step() is False
    elapsed = time.monotonic() - start
    bot.release.set()
    assert elapsed < 5, f"closing waited {elapsed:.1f}s for the search"
    assert bot.closed and app.view.closed
    assert len(list((tmp_path / "games").glob("*.sgf"))) == 1  # the unfinished game is kept


def test_undo_during_the_search_cancels_it(tmp_path, window):
    bot = BlockingBot()
    app = make_app(tmp_path, bot)
    click("E5", app)
    assert bot.started.wait(5)
    key(pygame.K_u, app)
    assert len(app.view.line) == 1 and not app.view.thinking
    click("D4", app)
    assert app.view.position.board[from_gtp("D4", 9)] == BLACK
    app.step()
    assert "finish its last search" in app.view.thinking_text()
    bot.release.set()
    settle(app)
    assert app.view.position.passes == 1  # the new search answered; the cancelled one was thrown away
    assert len(app.view.line) == 3
    app.close()


# -- the command ------------------------------------------------------------------------------------------------

def test_play_without_a_display_is_one_line_and_exit_2(monkeypatch, capsys):
    from selfplay import cli

    for name in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert cli.main(["play", "--player", "random"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no display" in err and "minigo gtp" in err


@pytest.mark.parametrize("argv, message", [
    (["--player", "nosuchkind"], "unknown player kind"),
    (["--player", "policy:/no/such/checkpoint.safetensors"], "no/such/checkpoint"),
    (["--handicap", "12"], "handicap 12 is not possible on 9x9"),
    (["--size", "25"], "--size '25'"),
    (["--komi", "nan"], "--komi 'nan'"),
    (["--sgf", "/no/such/game.sgf"], "cannot read /no/such/game.sgf"),
])
def test_play_bad_input_is_one_line_and_exit_2(monkeypatch, capsys, argv, message):
    from selfplay import cli

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    assert cli.main(["play", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_play_opens_the_window_from_the_flags_and_saves_to_the_data_folder(monkeypatch, tmp_path, capsys):
    from selfplay import cli

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    seen = {}
    step = gui.App.step

    def step_then_quit(app):  # the real loop: three frames (the bot, White, moves first), then close the window
        seen["view"] = app.view
        seen["frames"] = seen.get("frames", 0) + 1
        if app.view.job is not None:
            app.view.job.done.wait(10)
        if seen["frames"] == 3:
            pygame.event.post(pygame.event.Event(pygame.QUIT))
        return step(app)

    monkeypatch.setattr(gui.App, "step", step_then_quit)
    assert cli.main(["play", "--player", "random,seed=1", "--handicap", "2"]) == 0
    view = seen["view"]
    assert view.rules == Rules(9, 0.5) and view.players[BLACK] is None and view.players[WHITE].name == "random,seed=1"
    assert view.handicap == 2 and view.closed
    saved = list((tmp_path / "minigo" / "games").glob("*.sgf"))
    assert len(saved) == 1 and sgf.load(saved[0]).handicap == 2
    assert str(tmp_path / "minigo" / "games") in capsys.readouterr().out
