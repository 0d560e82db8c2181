"""``[encryption]`` in the config: optional (old files stay valid), validated by the one validator, saved only
when it differs from the defaults."""

from __future__ import annotations

from wizard.core import config


def base(extra: str = "") -> dict:
    import tomllib

    return tomllib.loads('[source]\npaths = ["C:/Tienda"]\n[destination]\nfolder = "E:/Respaldos"\n' + extra)


def test_a_config_without_encryption_is_valid_and_not_encrypted():
    assert config.validate_dict(base()) == []
    cfg = config.from_dict(base())
    assert cfg.encryption.enabled is False and cfg.encryption.scope == "cloud"
    assert not cfg.encryption.applies_to_cloud() and not cfg.encryption.applies_to_local()
    assert "encryption" not in config.to_dict(cfg)


def test_scopes_say_which_copies_are_encrypted():
    cloud = config.from_dict(base('[encryption]\nenabled = true\n'))
    assert cloud.encryption.applies_to_cloud() and not cloud.encryption.applies_to_local()
    every = config.from_dict(base('[encryption]\nenabled = true\nscope = "all"\n'))
    assert every.encryption.applies_to_cloud() and every.encryption.applies_to_local()
    assert config.to_dict(every)["encryption"] == {"enabled": True, "scope": "all"}


def test_wrong_values_are_named_with_their_key(tmp_path):
    problems = config.validate_dict(base('[encryption]\nenabled = "sí"\nscope = "usb"\npassword = "x"\n'))
    keys = [p.key for p in problems]
    assert keys == ["encryption.password", "encryption.enabled", "encryption.scope"]
    assert '"usb" no es válido' in str(problems[2])


def test_saved_and_loaded_back(tmp_path):
    cfg = config.from_dict(base('[encryption]\nenabled = true\nscope = "all"\n'))
    path = tmp_path / "respaldos.toml"
    config.save(cfg, path)
    assert config.load(path).encryption == cfg.encryption
