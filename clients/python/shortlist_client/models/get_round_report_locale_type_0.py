from enum import StrEnum


class GetRoundReportLocaleType0(StrEnum):
    EN = "en"
    KO = "ko"

    def __str__(self) -> str:
        return str(self.value)
