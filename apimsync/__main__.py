from apimsync.cli import main

main()
