import numpy as np
import pytest

from keras_soundgan import metrics


def test_inception_score_by_hand():
    # Perfectly confident and evenly spread over 4 classes: the maximum, 4.
    p = np.eye(4)[[0, 1, 2, 3, 0, 1, 2, 3]]
    assert metrics.inception_score(p) == pytest.approx(4.0, rel=1e-6)
    # Every sound gets the same prediction: the minimum, 1.
    same = np.tile([0.7, 0.2, 0.1], (10, 1))
    assert metrics.inception_score(same) == pytest.approx(1.0, rel=1e-9)
    # Two classes, p(y|x) = (0.9, 0.1) and (0.1, 0.9): exp(KL((.9,.1) || (.5,.5))).
    p = np.array([[0.9, 0.1], [0.1, 0.9]])
    kl = 0.9 * np.log(0.9 / 0.5) + 0.1 * np.log(0.1 / 0.5)
    assert metrics.inception_score(p) == pytest.approx(np.exp(kl), rel=1e-9)


def test_frechet_distance_by_hand():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 3))
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    # Shifting the mean by v adds |v|^2.
    shift = np.array([1.0, 2.0, 0.0])
    assert metrics.frechet_distance(a, a + shift) == pytest.approx(5.0, rel=1e-6)
    # Doubling: |mu - 2 mu|^2 + tr(C + 4C - 2 (4 C^2)^(1/2)) = |mu|^2 + tr(C).
    expected = np.sum(a.mean(0) ** 2) + np.trace(np.cov(a, rowvar=False))
    assert metrics.frechet_distance(a, 2 * a) == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="same d"):
        metrics.frechet_distance(a, a[:, :2])


def test_ndb_same_distribution_vs_shifted():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(2000, 2))
    same = rng.normal(size=(2000, 2))
    ndb, ndb_k = metrics.ndb_score(real, same, bins=10)
    assert ndb <= 2 and ndb_k == ndb / 10
    collapsed = rng.normal(size=(2000, 2)) * 0.1 + 2.0  # mode collapse far away
    ndb, ndb_k = metrics.ndb_score(real, collapsed, bins=10)
    assert ndb >= 8


def test_label_accuracy_and_spectral_convergence():
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    assert metrics.label_accuracy(p, [0, 1, 1]) == pytest.approx(2 / 3)
    s = np.ones((4, 4))
    assert metrics.spectral_convergence(s, s) == 0.0
    assert metrics.spectral_convergence(s, 0.5 * s) == pytest.approx(0.5)


def test_judge_separates_a_separable_set_and_scores_it_at_the_maximum():
    rng = np.random.default_rng(0)
    n, classes = 40, 3
    labels = np.repeat(np.arange(classes), n)
    images = rng.normal(0, 0.05, (n * classes, 16, 16, 1)).astype("float32")
    for c in range(classes):  # each class lights up its own band of rows
        images[labels == c, 5 * c:5 * c + 4] += 0.8
    judge = metrics.train_judge(images, labels, classes, epochs=25, seed=0)
    p, e = metrics.judge_outputs(judge, images)
    assert metrics.label_accuracy(p, labels) == 1.0
    assert metrics.inception_score(p) > 0.9 * classes
    assert e.shape == (n * classes, 64)
    result = metrics.score(judge, images, images, requested_labels=labels, bins=5)
    assert result.frechet_distance == pytest.approx(0.0, abs=1e-3)
    assert result.ndb == 0 and result.label_accuracy == 1.0


def test_split_held_out_is_stratified():
    labels = np.repeat([0, 1, 2], [10, 20, 5])
    x = np.arange(len(labels))
    tx, ty, hx, hy = metrics.split_held_out(x, labels, fraction=0.2)
    assert sorted(np.bincount(hy).tolist()) == [1, 2, 4]
    assert set(tx.tolist()).isdisjoint(hx.tolist()) and len(tx) + len(hx) == len(x)


def test_score_generator_scores_a_model_in_memory(small_config):
    """score_generator asks a conditional model for every class in turn and scores the
    sounds as evaluate_run's "generated" row does (same noise, same labels)."""
    from keras_soundgan import SoundGAN

    config = small_config.with_overrides({"generator.num_classes": 3})
    model = SoundGAN(config)
    rng = np.random.default_rng(0)
    images = rng.normal(0, 0.3, (36, 32, 32, 1)).astype("float32")
    judge = metrics.build_judge(images.shape[1:], 3)  # untrained: enough to compare
    result = metrics.score_generator(judge, images, model, n=12, seed=0, bins=4)
    requested = np.arange(12) % 3
    expected = metrics.score(judge, images, model.generate(12, seed=0, labels=requested),
                             requested, bins=4, seed=0)
    assert result == expected and result.label_accuracy is not None
    unconditional = metrics.score_generator(judge, images, SoundGAN(small_config), n=12,
                                            bins=4)
    assert unconditional.label_accuracy is None and unconditional.inception_score >= 1.0
