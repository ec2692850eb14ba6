from slsalint._start import main

main()
