"""Valid and broken 身份证号 for tests, computed with the GB 11643 check digit."""

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(region: str = "500103", birth: str = "19800512", sequence: str = "123") -> str:
    body = region + birth + sequence
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS)) % 11]


def with_wrong_check_digit(number: str) -> str:
    wrong = "0" if number[-1] != "0" else "1"
    return number[:-1] + wrong
