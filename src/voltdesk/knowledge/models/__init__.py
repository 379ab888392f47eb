from .articles import Article, ArticleText, ArticleVersion
from .reviews import AnswerReview, CorrectionTask

__all__ = [
    "AnswerReview",
    "Article",
    "ArticleText",
    "ArticleVersion",
    "CorrectionTask",
]
