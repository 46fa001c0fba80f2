"""Audio input and the spectral front end: waveforms to spectrogram images and back."""

__all__ = []
