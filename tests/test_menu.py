import pytest


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (
            "associate",
            ["Move stock", "Record a sale", "Take a return"],
            ["Reports", "Receive a shipment", "Bench jobs"],
        ),
        ("manager", ["Reports", "Receive a shipment", "API tokens", "Counts"], []),
        ("bench", ["Bench jobs"], ["Record a sale", "Reports"]),
    ],
)
def test_menu_shows_what_the_role_may_do(make, client_for, role, shown, hidden):
    store = make.store("A")
    user = make.user(role, [store])
    page = client_for(user).get("/menu")
    assert page.status_code == 200
    for label in shown:
        assert label in page.text
    for label in hidden:
        assert label not in page.text
