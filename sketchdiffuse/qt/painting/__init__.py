"""The painting side of the window: the canvas, its tool options and the layer panel."""
