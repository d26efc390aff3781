from enum import StrEnum


class UserCreateLocaleType0(StrEnum):
    EN = "en"
    KO = "ko"

    def __str__(self) -> str:
        return str(self.value)
