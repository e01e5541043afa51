"""The benchmark's floor (bench/floor.py) serves the same /t/<code> paths as the lookup it is read against, from
scanapp's own tables, to a user signed in."""

from bench import floor
from scanapp.extensions import db


def test_the_floor_answers_a_tag_of_the_database_to_a_user_signed_in(app, make):
    store = make.store()
    user = make.user("associate", [store], username="ana")
    lot = make.lot(make.location(store), number="SUP-0426-RG-001")
    code = lot.tag.code
    db.session.commit()

    floor_app = floor.create_app(app.config["SQLALCHEMY_DATABASE_URI"])
    client = floor_app.test_client()
    try:
        assert client.get(f"/t/{code}").status_code == 401
        assert client.get("/sign-in/nobody").status_code == 404
        assert client.get(f"/sign-in/{user.username}").status_code == 302
        page = client.get(f"/t/{code.lower()}")
        assert page.status_code == 200
        assert f"<h1>Tag {code}</h1>" in page.text and "Signed in as ana." in page.text
        assert f"lot {lot.id}" in page.text
        assert client.get("/t/NO-SUCH-TAG").status_code == 404
    finally:
        with floor_app.app_context():
            floor.db.engine.dispose()  # its own engine: close its connection now, not when collected
