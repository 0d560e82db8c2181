"""The backups' password: environment first, then the keyring; its history; its checks and strength hint."""

from __future__ import annotations

import json

import pytest

from wizard.core import machine, secrets
from wizard.core.config import Config
from wizard.core.encryption import password as pw
from wizard.core.errors import UserError


def test_the_environment_variable_comes_before_the_keyring(password_keyring, monkeypatch):
    pw.set_password(Config(), "guardada en el llavero")
    assert pw.get_password(Config()) == "guardada en el llavero"
    monkeypatch.setenv("RESPALDOS_PASSWORD", "la del entorno 123")
    assert pw.get_password(Config()) == "la del entorno 123"
    assert pw.candidate_passwords(Config())[:2] == ["la del entorno 123", "guardada en el llavero"]


def test_the_password_is_kept_in_the_keyring_under_this_installation(password_keyring):
    pw.set_password(Config(), "una frase larga")
    stored = json.loads(password_keyring.read_text(encoding="utf-8"))
    key = f"Respaldos/contraseña de respaldos:{machine.installation_id()}"
    assert stored == {key: "una frase larga"}


def test_a_missing_password_says_how_to_supply_it(password_keyring):
    assert pw.get_password(Config()) is None
    assert pw.candidate_passwords(Config()) == []
    with pytest.raises(pw.PasswordMissing) as caught:
        pw.require_password(Config(), "respaldo_2026-01-02_10-00-00.zip")
    assert "respaldo_2026-01-02_10-00-00.zip" in str(caught.value)
    assert "RESPALDOS_PASSWORD" in str(caught.value)


def test_changing_the_password_keeps_the_older_ones_newest_first(password_keyring):
    for value in ("primera clave 1", "segunda clave 2", "tercera clave 3"):
        pw.set_password(Config(), value)
    pw.set_password(Config(), "tercera clave 3")  # the same again adds nothing
    assert pw.get_password(Config()) == "tercera clave 3"
    assert pw.older_passwords() == ["segunda clave 2", "primera clave 1"]
    assert pw.candidate_passwords(Config()) == ["tercera clave 3", "segunda clave 2", "primera clave 1"]
    pw.set_password(Config(), "primera clave 1")  # going back to an old one: no duplicate in the history
    assert pw.candidate_passwords(Config()) == ["primera clave 1", "tercera clave 3", "segunda clave 2"]
    pw.forget_password()
    assert json.loads(password_keyring.read_text(encoding="utf-8")) == {}


def test_a_short_password_is_refused_and_nothing_is_stored(password_keyring):
    with pytest.raises(UserError, match="al menos 10 caracteres"):
        pw.set_password(Config(), "corta")
    assert pw.get_password(Config()) is None


def test_without_a_keyring_nothing_is_stored_unless_the_config_allows_the_file(monkeypatch):
    import keyring
    from keyring.backends import fail

    monkeypatch.delenv("RESPALDOS_PASSWORD", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(secrets.KeyringUnavailable):
            pw.set_password(Config(), "sin llavero 12345")
        assert not secrets.fallback_path().exists()
        cfg = Config()
        cfg.secrets.allow_file = True
        pw.set_password(cfg, "sin llavero 12345")
        assert pw.get_password(cfg) == "sin llavero 12345"
        assert secrets.fallback_path().stat().st_mode & 0o777 == 0o600
    finally:
        keyring.set_keyring(previous)


def test_check_new_password_names_each_problem():
    assert pw.check_new_password("una frase larga", "una frase larga") == []
    problems = pw.check_new_password("corta", "otra")
    assert len(problems) == 2
    assert "al menos 10" in problems[0] and "no son iguales" in problems[1]
    assert pw.check_new_password("una frase larga", "una frase larg") == [problems[1]]


@pytest.mark.parametrize("password, at_most, hint", [
    ("", 0, "al menos 10"),
    ("abc", 0, "al menos 10"),
    ("password123", 1, "muy común"),
    ("Contraseña2024", 1, "muy común"),
    ("aaaaaaaaaaaa", 1, "repetir"),
    ("abcdefghijklm", 1, "secuencias"),
    ("tiendaventas", 1, "muy común"),
    ("Perro azul", 1, "más larga"),  # two words: letters that are words count as words
    ("kqzvbnwptrxs", 1, "secuencias"),  # vbn: a keyboard run
])
def test_weak_passwords_get_a_low_score_and_the_reason(password, at_most, hint):
    score, text = pw.strength(password)
    assert score <= at_most
    assert hint in text


@pytest.mark.parametrize("password", ["caballo batería grapa correcto nube", "X9#kq2Lm!vP7zR",
                                      "correcthorsebatterystaple"])
def test_long_phrases_and_random_passwords_score_high(password):
    score, text = pw.strength(password)
    assert score == 4
    assert text == "Muy buena contraseña."


def test_four_words_are_good_and_five_very_good():
    assert pw.strength("Perro azul come tacos") == (3, ("Buena contraseña. Unos caracteres más la harían muy difícil "
                                                       "de adivinar."))
    assert pw.strength("Perro azul come tacos dorados")[0] == 4


def test_a_longer_password_never_scores_lower():
    scores = [pw.strength("gato verde " + "x7" * n)[0] for n in range(8)]
    assert scores == sorted(scores)
    assert scores[0] < scores[-1]


def test_a_password_typed_for_this_run_is_tried_but_not_stored_unless_kept(password_keyring, monkeypatch):
    monkeypatch.setattr(pw, "_session", [])
    pw.set_password(Config(), "la clave de hoy")
    pw.add_session_password("la de la hoja vieja")
    assert pw.candidate_passwords() == ["la de la hoja vieja", "la clave de hoy"]
    assert pw.get_password() == "la clave de hoy"  # new backups keep the current one
    assert "la de la hoja vieja" not in password_keyring.read_text(encoding="utf-8")

    pw.keep_password(Config(), "la de la hoja vieja")
    monkeypatch.setattr(pw, "_session", [])
    assert pw.get_password() == "la clave de hoy"
    assert pw.candidate_passwords() == ["la clave de hoy", "la de la hoja vieja"]


def test_keeping_a_typed_password_on_a_new_pc_makes_it_the_current_one(password_keyring):
    pw.keep_password(Config(), "traída de la hoja")
    assert pw.get_password() == "traída de la hoja"
    assert pw.older_passwords() == []
