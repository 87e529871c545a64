"""scikit-learn's estimator contract, checked by its own test suite."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from md_sklearn import MDTreeClassifier


@parametrize_with_checks(
    [MDTreeClassifier(), MDTreeClassifier(threshold_search="exhaustive")],
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
