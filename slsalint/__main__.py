from slsalint.cli import main

main()
