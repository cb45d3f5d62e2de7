# Ask on the console for every variable set to "ask" (all askable ones when
# interactive=yes). Each answer lands in /env/NAME for the scripts after this one.
ants ask
