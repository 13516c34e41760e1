"""Visualisation: static plots for decks, the live dashboard and animations."""
